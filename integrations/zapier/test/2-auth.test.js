'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { App, appTester, env, authData, appError } = require('./helpers');

test('the auth test passes with a good key and names the connection after the tenant', async () => {
  const me = await appTester(App.authentication.test, { authData: authData(env().apiKey) });
  assert.equal(typeof me.tenant_id, 'string');
  assert.ok(me.key.scopes.includes('consume') && me.key.scopes.includes('ingest'));
  const label = await appTester(App.authentication.connectionLabel, {
    authData: authData(env().apiKey),
    inputData: me,
  });
  assert.equal(label, me.tenant_id);
});

test("a revoked key fails the auth test with the API's message, not a stack trace", async () => {
  await assert.rejects(appTester(App.authentication.test, { authData: authData(env().revokedApiKey) }), (error) => {
    assert.deepEqual(appError(error), {
      message: 'Unknown or revoked API key.',
      code: 'AuthenticationError',
      status: 401,
    });
    return true;
  });
});

test('a key sent any other way is refused with what the API says', async () => {
  await assert.rejects(
    appTester(App.authentication.test, { authData: { api_url: `${env().apiUrl}/`, api_key: 'tk_live_nope' } }),
    (error) => appError(error).status === 401 && appError(error).message.length > 0,
  );
});
