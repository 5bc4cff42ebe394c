'use strict';

const zapier = require('zapier-platform-core');

const authentication = require('./authentication');
const { addBearerKey, throwApiErrors } = require('./lib/api');
const newEvent = require('./triggers/new_event');
const newEventInstant = require('./triggers/new_event_instant');
const sendEvent = require('./creates/send_event');

module.exports = {
  version: require('./package.json').version,
  platformVersion: zapier.version,

  authentication,
  beforeRequest: [addBearerKey],
  afterResponse: [throwApiErrors],

  triggers: {
    [newEvent.key]: newEvent,
    [newEventInstant.key]: newEventInstant,
  },
  creates: {
    [sendEvent.key]: sendEvent,
  },
  searches: {},
  resources: {},
};
