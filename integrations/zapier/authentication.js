'use strict';

const { apiUrl } = require('./lib/api');

// GET /v1/me answers any valid key, of any scope, without a store call:
// {"tenant_id": "acme", "key": {"prefix": "tk_live_AbC", "scopes": ["consume", "ingest"]}}
const test = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(bundle, '/v1/me') });
  return response.data;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'api_url',
      label: 'API URL',
      type: 'string',
      required: true,
      helpText: 'Where your triggerapi answers, for example `https://events.example.com` (no `/v1`).',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'A tenant key (`tk_live_...`) from `manage.py issue_key`. Triggers need the `consume` scope, Send Event the `ingest` scope.',
    },
  ],
  test,
  // The test's answer is bundle.inputData here: the connection is named after the tenant.
  connectionLabel: (z, bundle) => bundle.inputData.tenant_id,
};
