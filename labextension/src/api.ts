/**
 * Requests to the hptaa_lab server extension, with errors a person can act on.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IStudiesReply, IStudyReply } from './tokens';

/** Path of the endpoints below the server's base URL. */
export const API_PATH = 'hptaa/api';

/** What to tell a person whose server lacks the extension. */
export const MISSING_EXTENSION_MESSAGE =
  'The hptaa_lab server extension is not enabled on this Jupyter server, ' +
  'so the studies cannot be read. Enable it with ' +
  '`jupyter server extension enable hptaa_lab.server` in the environment ' +
  'that runs JupyterLab (installing hptaa_lab with pip does this), then ' +
  'restart JupyterLab.';

/** A request that failed; `message` says what happened and what to do. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly missingExtension = false
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Fetch the list of studies. */
export function fetchStudies(
  settings?: ServerConnection.ISettings
): Promise<IStudiesReply> {
  return requestJSON<IStudiesReply>('studies', settings, true);
}

/** Fetch one study with its trajectory, diff and twin comparison. */
export function fetchStudy(
  name: string,
  settings?: ServerConnection.ISettings
): Promise<IStudyReply> {
  return requestJSON<IStudyReply>(
    `studies/${encodeURIComponent(name)}`,
    settings,
    false
  );
}

/**
 * GET an endpoint and parse its JSON.
 *
 * @param path - Path below `hptaa/api`.
 * @param settings - Server settings; the page's own by default.
 * @param listing - Whether this is the studies list, which never answers
 *   404 itself: a 404 there means the server extension is missing.
 */
async function requestJSON<T>(
  path: string,
  settings: ServerConnection.ISettings | undefined,
  listing: boolean
): Promise<T> {
  const server = settings ?? ServerConnection.makeSettings();
  const url = URLExt.join(server.baseUrl, API_PATH, path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method: 'GET' },
      server
    );
  } catch (error) {
    throw new ApiError(
      `Cannot reach the Jupyter server (${String(error)}). Check that it ` +
        'is still running, then reload the page.',
      0
    );
  }

  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.ok && body !== null) {
    return body as T;
  }
  throw errorFor(response.status, body, listing);
}

function errorFor(status: number, body: unknown, listing: boolean): ApiError {
  const ours =
    typeof body === 'object' &&
    body !== null &&
    'status' in body &&
    'message' in body;
  if (status === 404 && (listing || !ours)) {
    return new ApiError(MISSING_EXTENSION_MESSAGE, status, true);
  }
  if (status === 403) {
    return new ApiError(
      'The server refused the request (403): the session may have ' +
        'expired. Reload the page and log in again.',
      status
    );
  }
  if (ours) {
    return new ApiError(String((body as { message: unknown }).message), status);
  }
  return new ApiError(
    `The server answered ${status} without a message. See the server log.`,
    status
  );
}
