'use strict';

// The definition passes zapier-platform-schema's validation the way `zapier validate`
// runs it (offline): the app handler's `validate` command.

const test = require('node:test');
const assert = require('node:assert/strict');
const zapier = require('zapier-platform-core');

const App = require('../index');

test('the app definition passes zapier-platform-schema validation', async () => {
  const handler = zapier.createAppHandler(App);
  const output = await new Promise((resolve, reject) =>
    handler({ command: 'validate', bundle: {} }, {}, (err, result) => (err ? reject(err) : resolve(result))),
  );
  assert.deepEqual(output.results, []);
});

test('every trigger and action has a sample and output fields, and triggers dedupe on id', () => {
  for (const [kind, items] of [
    ['triggers', App.triggers],
    ['creates', App.creates],
  ]) {
    for (const item of Object.values(items)) {
      assert.ok(item.operation.sample && item.operation.sample.id, `${kind}.${item.key} has a sample with an id`);
      assert.ok(item.operation.outputFields.length > 0, `${kind}.${item.key} has output fields`);
      assert.ok(item.display.description.endsWith('.'), `${kind}.${item.key}'s description is a sentence`);
    }
  }
  for (const trigger of Object.values(App.triggers)) {
    assert.deepEqual(
      trigger.operation.outputFields.filter((f) => f.primary).map((f) => f.key),
      ['id'],
    );
  }
  // The platform version Zapier runs it with is the one package.json pins.
  assert.equal(App.platformVersion, require('../package.json').dependencies['zapier-platform-core']);
});
