'use strict';

const { apiUrl, apiError } = require('../lib/api');
const { sample, outputFields, eventTypeInput } = require('../lib/event');
const newEvent = require('./new_event');

// Turning the Zap on creates a triggerapi hook that pushes each new event to the Zap's
// own URL; turning it off deletes it. What the hook answers (its id and its secret) is kept
// by Zapier as bundle.subscribeData.
//
// Zapier answers 429 to more than 30 requests per second to one hook URL: the hook asks
// triggerapi for at most RATE_LIMIT attempts per second, so a burst arrives paced, without
// 429s that would push each of its deliveries back by a retry delay.
const RATE_LIMIT = 25;

const performSubscribe = async (z, bundle) => {
  const body = {
    target_url: bundle.targetUrl,
    description: 'Zapier: New Event (Instant)',
    rate_limit: RATE_LIMIT,
  };
  if (bundle.inputData.event_type) {
    body.event_types = [bundle.inputData.event_type];
  }
  const response = await z.request({ url: apiUrl(bundle, '/v1/hooks'), method: 'POST', body });
  return response.data;
};

// A hook already deleted (by hand, or by triggerapi after Zapier answered 410) is 404:
// it is gone either way, which is what Zapier asked.
const performUnsubscribe = async (z, bundle) => {
  const response = await z.request({
    url: apiUrl(bundle, `/v1/hooks/${encodeURIComponent(bundle.subscribeData.id)}`),
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  if (response.status === 204 || response.status === 404) {
    return { id: bundle.subscribeData.id, deleted: true };
  }
  throw apiError(response, z);
};

// The pushed body is the event exactly as GET /v1/events/{id} answers it.
const perform = async (z, bundle) => [bundle.cleanedRequest];

module.exports = {
  key: 'new_event_instant',
  noun: 'Event',
  display: {
    label: 'New Event (Instant)',
    description: 'Triggers at once when an event is ingested: triggerapi pushes it to Zapier as a webhook.',
  },
  operation: {
    type: 'hook',
    inputFields: [eventTypeInput],
    performSubscribe,
    performUnsubscribe,
    perform,
    // Samples for the editor: recent events, the same shape as what the hook delivers.
    performList: newEvent.operation.perform,
    sample,
    outputFields,
  },
};
