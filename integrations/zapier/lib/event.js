'use strict';

// An event exactly as GET /v1/events/{id} answers it, which is also the body triggerapi
// pushes to a hook: the polling trigger, the instant trigger and its samples share it.

const sample = {
  id: 'evt_01JZ8Q4W7T3M5X2K9R6B1N0PQE',
  created_at: 1767225600000,
  status: 'undelivered',
  payload: { event_type: 'order.paid', order_id: 'ord_1042', amount: 42, currency: 'EUR' },
  event_type: 'order.paid',
  attempts: 0,
  lease_expires_at: null,
  delivered_at: null,
  available_at: 1767225600000,
};

// The payload's own keys are the tenant's: the editor shows them from the sample and from
// real events (Zapier flattens them to `payload__<key>`).
const outputFields = [
  { key: 'id', label: 'Event ID', type: 'string', primary: true },
  { key: 'created_at', label: 'Created At (epoch ms)', type: 'integer' },
  { key: 'status', label: 'Status', type: 'string' },
  { key: 'event_type', label: 'Event Type', type: 'string' },
  { key: 'attempts', label: 'Claim Attempts', type: 'integer' },
  { key: 'lease_expires_at', label: 'Lease Expires At (epoch ms)', type: 'integer' },
  { key: 'delivered_at', label: 'Delivered At (epoch ms)', type: 'integer' },
  { key: 'available_at', label: 'Claimable From (epoch ms)', type: 'integer' },
];

const eventTypeInput = {
  key: 'event_type',
  label: 'Event Type',
  type: 'string',
  required: false,
  helpText: 'Only events of this `event_type` (for example `order.paid`). Leave empty for every event.',
};

module.exports = { sample, outputFields, eventTypeInput };
