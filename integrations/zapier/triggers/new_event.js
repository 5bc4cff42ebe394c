'use strict';

const { apiUrl } = require('../lib/api');
const { sample, outputFields, eventTypeInput } = require('../lib/event');

// Zapier polls this every few minutes and keeps the ids it has seen: an event whose id is
// new starts the Zap. Newest first and at most 100, which is also Zapier's own limit.
const perform = async (z, bundle) => {
  const params = { order: 'desc', limit: 100 };
  if (bundle.inputData.event_type) {
    params.event_type = bundle.inputData.event_type;
  }
  const response = await z.request({ url: apiUrl(bundle, '/v1/events'), params });
  return response.data.events;
};

module.exports = {
  key: 'new_event',
  noun: 'Event',
  display: {
    label: 'New Event',
    description: 'Triggers when an event is ingested (checked every polling interval).',
  },
  operation: {
    type: 'polling',
    inputFields: [eventTypeInput],
    perform,
    sample,
    outputFields,
  },
};
