'use strict';

// Shared by the tests: the live stack's values from the environment (tests/integration/
// test_zapier.py starts the stack and sets them), the SDK's app tester, direct API calls
// for the test's own setup, and a deadline-bound wait.

const http = require('node:http');
const zapier = require('zapier-platform-core');

const App = require('../index');

const need = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: these tests run against a live triggerapi. Run them with ` +
        '`.venv/bin/python -m pytest tests/integration/test_zapier.py` from the repository root, ' +
        'which starts the stack and sets API_URL, API_KEY, OTHER_API_KEY and REVOKED_API_KEY.',
    );
  }
  return value;
};

const env = () => ({
  apiUrl: need('API_URL'),
  apiKey: need('API_KEY'),
  otherApiKey: need('OTHER_API_KEY'),
  revokedApiKey: need('REVOKED_API_KEY'),
});

zapier.tools.env.inject();
const appTester = zapier.createAppTester(App);

const authData = (apiKey) => ({ api_url: env().apiUrl, api_key: apiKey });

// The API called directly, as the outside world does: to ingest and to check. A connection
// each: fetch keeps an idle one for 4 s and gunicorn closes it after 2, so a call made about
// 2 s after the last could go out on a connection the server is closing ("other side closed").
const api = async (apiKey, method, path, { body, headers } = {}) => {
  const response = await fetch(`${env().apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${apiKey}`,
      'Content-Type': 'application/json',
      Connection: 'close',
      ...(headers || {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, data: text ? JSON.parse(text) : null };
};

// Ingests payloads with the batch endpoint (100 a call); answers the ids in request order.
const ingest = async (apiKey, payloads) => {
  const ids = [];
  for (let i = 0; i < payloads.length; i += 100) {
    const { status, data } = await api(apiKey, 'POST', '/v1/events/batch', { body: { events: payloads.slice(i, i + 100) } });
    if (status !== 201) {
      throw new Error(`batch ingest answered ${status}: ${JSON.stringify(data)}`);
    }
    ids.push(...data.events.map((receipt) => receipt.id));
  }
  return ids;
};

const DEADLINE_MS = Number(process.env.DEADLINE_MS || 60000);

const waitFor = async (what, condition, { deadlineMs = DEADLINE_MS, explain } = {}) => {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await condition();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${deadlineMs / 1000} s${explain ? `: ${JSON.stringify(await explain())}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

// Stands in for Zapier's hook URLs: records every POST (path, headers, raw body) and answers 200.
const startReceiver = () =>
  new Promise((resolve) => {
    const received = [];
    const server = http.createServer((request, response) => {
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end('{"status":"success"}');
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        received,
        url: (path) => `${base}${path}`,
        at: (path) => received.filter((r) => r.path === path),
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });

// What the SDK's AppError carries: a JSON string with message, code and status.
const appError = (error) => JSON.parse(error.message);

module.exports = { App, appTester, env, authData, api, ingest, waitFor, startReceiver, appError };
