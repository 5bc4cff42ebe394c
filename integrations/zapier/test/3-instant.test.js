'use strict';

// "New Event (Instant)" as Zapier runs it: turning a Zap on calls performSubscribe with the
// Zap's URL (here a receiver in this process), triggerapi's run_deliveries pushes each
// event there, and Zapier runs perform on each request; turning it off calls
// performUnsubscribe. Two Zaps of one tenant (one filtered, one not) and a Zap of another
// tenant run side by side.

const test = require('node:test');
const assert = require('node:assert/strict');

const { App, appTester, env, authData, api, ingest, waitFor, startReceiver } = require('./helpers');

const operation = App.triggers.new_event_instant.operation;

test('subscribe, deliveries through perform, the same shape as performList, unsubscribe', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const mine = authData(env().apiKey);
  const theirs = authData(env().otherApiKey);
  const type = `zap.instant.${Date.now()}`;

  // Turning the Zaps on.
  const filtered = await appTester(operation.performSubscribe, {
    authData: mine,
    targetUrl: receiver.url('/zap/filtered'),
    inputData: { event_type: type },
  });
  assert.match(filtered.id, /^hook_/);
  assert.equal(filtered.target_url, receiver.url('/zap/filtered'));
  assert.deepEqual(filtered.event_types, [type]);
  assert.match(filtered.secret, /^whsec_/);
  // Paced below Zapier's 30 requests/s per hook URL, as the hook itself says.
  assert.equal(filtered.rate_limit, 25);
  assert.equal((await api(env().apiKey, 'GET', `/v1/hooks/${filtered.id}`)).data.rate_limit, 25);
  const control = await appTester(operation.performSubscribe, {
    authData: mine,
    targetUrl: receiver.url('/zap/every'),
    inputData: {},
  });
  const other = await appTester(operation.performSubscribe, {
    authData: theirs,
    targetUrl: receiver.url('/zap/other-tenant'),
    inputData: { event_type: type },
  });

  // Events: three of the Zap's type, one of another type, and the other tenant's two.
  const wanted = await ingest(env().apiKey, [1, 2, 3].map((n) => ({ event_type: type, n })));
  const [unwanted] = await ingest(env().apiKey, [{ event_type: `${type}.other`, n: 4 }]);
  const otherIds = await ingest(env().otherApiKey, [5, 6].map((n) => ({ event_type: type, n })));

  const explain = async () => ({
    received: receiver.received.map((r) => [r.path, r.headers['webhook-id']]),
    deliveries: {
      filtered: (await api(env().apiKey, 'GET', `/v1/hooks/${filtered.id}/deliveries`)).data,
      every: (await api(env().apiKey, 'GET', `/v1/hooks/${control.id}/deliveries`)).data,
    },
  });
  await waitFor(
    'deliveries to every Zap',
    () =>
      receiver.at('/zap/filtered').length >= 3 &&
      receiver.at('/zap/every').length >= 4 &&
      receiver.at('/zap/other-tenant').length >= 2,
    { explain },
  );
  const ids = (path) => receiver.at(path).map((r) => r.headers['webhook-id']);
  assert.deepEqual(ids('/zap/filtered').sort(), [...wanted].sort());
  assert.deepEqual(ids('/zap/every').sort(), [...wanted, unwanted].sort());
  assert.deepEqual(ids('/zap/other-tenant').sort(), [...otherIds].sort());

  // Each request through perform, as Zapier runs it: the parsed body is cleanedRequest.
  const delivered = [];
  for (const request of receiver.at('/zap/filtered')) {
    const results = await appTester(operation.perform, {
      authData: mine,
      subscribeData: filtered,
      inputData: { event_type: type },
      cleanedRequest: JSON.parse(request.body),
      rawRequest: { method: 'POST', headers: request.headers, content: request.body },
    });
    assert.equal(results.length, 1);
    const [event] = results;
    assert.equal(event.id, request.headers['webhook-id']);
    const current = (await api(env().apiKey, 'GET', `/v1/events/${event.id}`)).data;
    assert.deepEqual(event, current);
    delivered.push(event);
  }

  // performList (the editor's samples) answers the same shape, the same events.
  const listed = await appTester(operation.performList, { authData: mine, inputData: { event_type: type } });
  assert.deepEqual(
    listed.map((event) => event.id),
    [...wanted].sort().reverse(),
  );
  for (const event of delivered) {
    assert.deepEqual(Object.keys(event).sort(), Object.keys(listed[0]).sort());
    assert.deepEqual(
      listed.find((e) => e.id === event.id),
      event,
    );
  }
  assert.deepEqual(Object.keys(listed[0]).sort(), Object.keys(operation.sample).sort());

  // Turning the filtered Zap off: the hook is gone, and a second unsubscribe is no error.
  await appTester(operation.performUnsubscribe, { authData: mine, subscribeData: filtered });
  assert.equal((await api(env().apiKey, 'GET', `/v1/hooks/${filtered.id}`)).status, 404);
  await appTester(operation.performUnsubscribe, { authData: mine, subscribeData: filtered });

  // Events after it: the Zap still on gets them, the one turned off does not.
  const later = await ingest(env().apiKey, [7, 8].map((n) => ({ event_type: type, n })));
  await waitFor('the later events at the Zap still on', () => later.every((id) => ids('/zap/every').includes(id)), {
    explain,
  });
  assert.deepEqual(ids('/zap/filtered').sort(), [...wanted].sort());

  // The other tenant's events never reached this tenant's Zaps, nor this tenant's theirs.
  for (const path of ['/zap/filtered', '/zap/every']) {
    assert.deepEqual(
      ids(path).filter((id) => otherIds.includes(id)),
      [],
    );
  }
  assert.deepEqual(ids('/zap/other-tenant').sort(), [...otherIds].sort());

  await appTester(operation.performUnsubscribe, { authData: mine, subscribeData: control });
  await appTester(operation.performUnsubscribe, { authData: theirs, subscribeData: other });
  assert.equal((await api(env().apiKey, 'GET', '/v1/hooks')).data.hooks.length, 0);
});
