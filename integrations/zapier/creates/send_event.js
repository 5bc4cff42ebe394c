'use strict';

const { apiUrl } = require('../lib/api');

// The payload: the raw JSON object if one is given, then the key-value fields over it,
// then the event type. POST /v1/events takes the payload itself as its body.
const payloadOf = (z, inputData) => {
  let payload = {};
  const raw = typeof inputData.payload_json === 'string' ? inputData.payload_json.trim() : inputData.payload_json;
  if (raw) {
    if (typeof raw === 'object') {
      payload = raw;
    } else {
      try {
        payload = JSON.parse(raw);
      } catch (e) {
        throw new z.errors.Error(`Payload (JSON) is not valid JSON: ${e.message}`, 'InvalidData', 400);
      }
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new z.errors.Error('Payload (JSON) must be a JSON object, like {"amount": 42}.', 'InvalidData', 400);
    }
  }
  return { ...payload, ...(inputData.fields || {}), event_type: inputData.event_type };
};

const perform = async (z, bundle) => {
  const request = {
    url: apiUrl(bundle, '/v1/events'),
    method: 'POST',
    body: payloadOf(z, bundle.inputData),
  };
  if (bundle.inputData.idempotency_key) {
    // Sending again with the same key answers the first event's receipt (200), not a new event.
    request.headers = { 'Idempotency-Key': bundle.inputData.idempotency_key };
  }
  const response = await z.request(request);
  return response.data;
};

module.exports = {
  key: 'send_event',
  noun: 'Event',
  display: {
    label: 'Send Event',
    description: 'Ingests an event into triggerapi, to be pulled by workers or pushed to hooks.',
  },
  operation: {
    inputFields: [
      {
        key: 'event_type',
        label: 'Event Type',
        type: 'string',
        required: true,
        helpText: 'For example `order.paid`. Consumers and hooks filter on it.',
      },
      {
        key: 'fields',
        label: 'Fields',
        dict: true,
        required: false,
        helpText: 'The payload as key-value pairs (each value is sent as text).',
      },
      {
        key: 'payload_json',
        label: 'Payload (JSON)',
        type: 'text',
        required: false,
        helpText:
          'Or the payload as a raw JSON object, for nested values, numbers and booleans, e.g. `{"amount": 42}`. Fields above are added to it (and win on the same key).',
      },
      {
        key: 'idempotency_key',
        label: 'Idempotency Key',
        type: 'string',
        required: false,
        helpText:
          'Optional, 1 to 255 printable ASCII characters. A retried step with the same key does not create a second event: it answers the first one.',
      },
    ],
    perform,
    sample: { id: 'evt_01JZ8Q4W7T3M5X2K9R6B1N0PQE', created_at: 1767225600000, status: 'undelivered' },
    outputFields: [
      { key: 'id', label: 'Event ID', type: 'string' },
      { key: 'created_at', label: 'Created At (epoch ms)', type: 'integer' },
      { key: 'status', label: 'Status', type: 'string' },
    ],
  },
};
