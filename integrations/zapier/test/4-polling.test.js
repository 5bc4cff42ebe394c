'use strict';

// "New Event" as Zapier runs it: a poll, then Zapier keeps the ids it has seen and starts
// the Zap for each new one. 250 events arrive in three rounds between polls; no round is
// more than 100, the most one poll returns (Zapier's limit too), so none is missed. A poll
// filtered by type reads that type only: newer events of other types never push its own out.

const test = require('node:test');
const assert = require('node:assert/strict');

const { App, appTester, env, authData, ingest } = require('./helpers');

const poll = (inputData = {}) =>
  appTester(App.triggers.new_event.operation.perform, { authData: authData(env().apiKey), inputData });

const assertNewestFirst = (events) => {
  for (let i = 1; i < events.length; i += 1) {
    assert.ok(events[i - 1].id > events[i].id, `${events[i - 1].id} before ${events[i].id}`);
    assert.ok(events[i - 1].created_at >= events[i].created_at);
  }
};

test('three polls over 250 events ingested between them: each event seen exactly once, newest first', async () => {
  const run = `poll-${Date.now()}`;
  const seen = new Map(); // id -> event, as Zapier's dedupe keeps it
  const sent = new Map(); // id -> payload
  let n = 0;
  for (const size of [100, 100, 50]) {
    const payloads = Array.from({ length: size }, () => {
      n += 1;
      return { event_type: n % 2 ? 'poll.odd' : 'poll.even', run, n };
    });
    const ids = await ingest(env().apiKey, payloads);
    ids.forEach((id, i) => sent.set(id, payloads[i]));

    const events = await poll();
    assert.equal(events.length, 100);
    assertNewestFirst(events);
    const fresh = events.filter((event) => !seen.has(event.id));
    fresh.forEach((event) => seen.set(event.id, event));
    // What triggers the Zap this time: exactly this round's events, newest first.
    assert.deepEqual(
      fresh.map((event) => event.id),
      [...ids].reverse(),
    );
  }
  assert.equal(seen.size, 250);
  assert.deepEqual(new Set(seen.keys()), new Set(sent.keys()));
  for (const [id, event] of seen) {
    assert.deepEqual(event.payload, sent.get(id));
    assert.equal(event.event_type, sent.get(id).event_type);
    assert.deepEqual(Object.keys(event).sort(), Object.keys(App.triggers.new_event.operation.sample).sort());
  }

  // With the Event Type input: only that type, still newest first, still at most 100.
  const odd = await poll({ event_type: 'poll.odd' });
  assertNewestFirst(odd);
  const oddSent = [...sent.keys()].filter((id) => sent.get(id).event_type === 'poll.odd');
  assert.equal(oddSent.length, 125);
  assert.deepEqual(
    odd.map((event) => event.id),
    oddSent.sort().reverse().slice(0, 100),
  );
});

test("the other tenant's poll sees none of these events", async () => {
  const mine = new Set((await poll()).map((event) => event.id));
  const theirs = await appTester(App.triggers.new_event.operation.perform, {
    authData: authData(env().otherApiKey),
    inputData: {},
  });
  assert.deepEqual(
    theirs.filter((event) => mine.has(event.id)),
    [],
  );
});

test('a poll filtered by type finds its event behind 300 newer events of other types', async () => {
  const run = `typed-${Date.now()}`;
  const [match] = await ingest(env().apiKey, [{ event_type: `${run}.rare`, run }]);
  await ingest(env().apiKey, Array.from({ length: 300 }, (_, n) => ({ event_type: `${run}.other`, run, n })));

  const events = await poll({ event_type: `${run}.rare` });

  assert.deepEqual(
    events.map((event) => event.id),
    [match],
  );
});
