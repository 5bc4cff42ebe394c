'use strict';

// What every request to triggerapi shares: the base URL the user gave, the key in
// `Authorization: Bearer`, and the API's error envelope turned into a message Zapier shows.

const apiUrl = (bundle, path) => `${String(bundle.authData.api_url || '').trim().replace(/\/+$/, '')}${path}`;

const addBearerKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${String(bundle.authData.api_key).trim()}`;
  }
  request.headers.Accept = 'application/json';
  return request;
};

// `{"error": {"code", "message", "details"}}` -> "message (field: problem; ...)".
const describe = (response) => {
  let error;
  try {
    error = JSON.parse(response.content).error;
  } catch (e) {
    error = null;
  }
  if (!error || typeof error.message !== 'string') {
    return { code: `http_${response.status}`, message: `triggerapi answered ${response.status}.` };
  }
  const details = error.details && typeof error.details === 'object' ? error.details : {};
  const problems = Object.entries(details).map(
    ([field, why]) => `${field}: ${Array.isArray(why) ? why.join(' ') : typeof why === 'string' ? why : JSON.stringify(why)}`,
  );
  return { code: error.code, message: problems.length ? `${error.message} (${problems.join('; ')})` : error.message };
};

const apiError = (response, z) => {
  const { code, message } = describe(response);
  if (response.status === 401) {
    return new z.errors.Error(message, 'AuthenticationError', 401);
  }
  return new z.errors.Error(message, code, response.status);
};

// Runs before the SDK's own throwForStatus, so the user sees the API's words, never a
// dump of the response. A request that handles its own statuses sets skipThrowForStatus.
const throwApiErrors = (response, z) => {
  if (response.status < 400 || (response.request && response.request.skipThrowForStatus)) {
    return response;
  }
  throw apiError(response, z);
};

module.exports = { apiUrl, addBearerKey, apiError, throwApiErrors };
