'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { App, appTester, env, authData, api, appError } = require('./helpers');

const send = (inputData, apiKey = env().apiKey) =>
  appTester(App.creates.send_event.operation.perform, { authData: authData(apiKey), inputData });

test('Send Event creates an event readable through the API with the same payload', async () => {
  const receipt = await send({
    event_type: 'zap.sent',
    fields: { email: 'alice@acme.com', plan: 'pro' },
    payload_json: '{"amount": 42, "paid": true, "items": [{"sku": "A-1", "qty": 2}], "plan": "free"}',
  });
  assert.deepEqual(Object.keys(receipt).sort(), ['created_at', 'id', 'status']);
  assert.equal(receipt.status, 'undelivered');

  const { status, data } = await api(env().apiKey, 'GET', `/v1/events/${receipt.id}`);
  assert.equal(status, 200);
  assert.deepEqual(data.payload, {
    amount: 42,
    paid: true,
    items: [{ sku: 'A-1', qty: 2 }],
    plan: 'pro', // the key-value field wins over the raw JSON
    email: 'alice@acme.com',
    event_type: 'zap.sent',
  });
  assert.equal(data.event_type, 'zap.sent');
  assert.equal(data.created_at, receipt.created_at);
  assert.equal((await api(env().otherApiKey, 'GET', `/v1/events/${receipt.id}`)).status, 404);
});

test('a repeated Send Event with the same idempotency key answers the same id', async () => {
  const inputData = { event_type: 'zap.once', fields: { n: '1' }, idempotency_key: `zap-${Date.now()}-${Math.random()}` };
  const first = await send(inputData);
  const again = await send(inputData);
  assert.equal(again.id, first.id);
  const { data } = await api(env().apiKey, 'GET', `/v1/events?event_type=zap.once&limit=100`);
  assert.equal(data.events.filter((event) => event.id === first.id).length, 1);
  // Without a key, each call is a new event.
  const other = await send({ event_type: 'zap.once', fields: { n: '1' } });
  assert.notEqual(other.id, first.id);
});

test('bad raw JSON is refused before any request, with a message that says why', async () => {
  await assert.rejects(send({ event_type: 'zap.bad', payload_json: '{"amount": ' }), (error) =>
    /Payload \(JSON\) is not valid JSON/.test(appError(error).message),
  );
  await assert.rejects(send({ event_type: 'zap.bad', payload_json: '[1, 2]' }), (error) =>
    /must be a JSON object/.test(appError(error).message),
  );
});

test("the API's validation errors reach the user as its message", async () => {
  await assert.rejects(send({ event_type: 'zap.bad', idempotency_key: 'k'.repeat(256) }), (error) => {
    const { message, status } = appError(error);
    assert.equal(status, 400);
    assert.match(message, /Idempotency-Key/);
    return true;
  });
});
