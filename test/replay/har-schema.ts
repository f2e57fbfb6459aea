/**
 * HAR 1.2 checks written from the spec (http://www.softwareishard.com/blog/har-12-spec/,
 * the W3C Web Performance WG draft): every required field with its type, the optional
 * ones typed when present, plus Chrome DevTools' WebSocket fields (`_resourceType`,
 * `_webSocketMessages`). Returns the problems, one line each ("log.entries[0].request.url:
 * missing"); none means valid.
 */
type Check = (value: unknown, where: string, problems: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const string: Check = (v, w, p) => void (typeof v !== 'string' && p.push(`${w}: expected a string, got ${JSON.stringify(v)}`));
const number = (min: number): Check => (v, w, p) => void ((typeof v !== 'number' || !Number.isFinite(v) || v < min) && p.push(`${w}: expected a number >= ${min}, got ${JSON.stringify(v)}`));
const integer: Check = (v, w, p) => void (!Number.isInteger(v) && p.push(`${w}: expected an integer, got ${JSON.stringify(v)}`));
const boolean: Check = (v, w, p) => void (typeof v !== 'boolean' && p.push(`${w}: expected a boolean`));
// "startedDateTime [string] - Date and time stamp of the request start (ISO 8601 - YYYY-MM-DDThh:mm:ss.sTZD)".
const isoDate: Check = (v, w, p) => void ((typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) || isNaN(Date.parse(v))) && p.push(`${w}: expected an ISO 8601 date-time, got ${JSON.stringify(v)}`));
const oneOf = (...values: unknown[]): Check => (v, w, p) => void (!values.includes(v) && p.push(`${w}: expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`));
const nullOr = (check: Check): Check => (v, w, p) => (v === null ? undefined : check(v, w, p));
const absoluteUrl: Check = (v, w, p) => {
  string(v, w, p);
  if (typeof v === 'string' && !URL.canParse(v)) p.push(`${w}: not an absolute URL: ${v}`);
};

function object(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, w, p) => {
    if (!isObject(v)) return void p.push(`${w}: expected an object`);
    for (const [key, check] of Object.entries(required)) {
      if (!(key in v)) p.push(`${w}.${key}: missing`);
      else check(v[key], `${w}.${key}`, p);
    }
    for (const [key, check] of Object.entries(optional)) if (key in v && v[key] !== undefined) check(v[key], `${w}.${key}`, p);
    // "Custom fields ... must start with an underscore"; the rest are the spec's own.
    for (const key of Object.keys(v)) if (!(key in required) && !(key in optional) && !key.startsWith('_')) p.push(`${w}.${key}: not a HAR 1.2 field (custom fields start with "_")`);
  };
}

const array = (item: Check): Check => (v, w, p) => {
  if (!Array.isArray(v)) return void p.push(`${w}: expected an array`);
  v.forEach((x, i) => item(x, `${w}[${i}]`, p));
};

const comment = { comment: string };
const nameValue = object({ name: string, value: string }, comment);
const cookie = object({ name: string, value: string }, { path: string, domain: string, expires: nullOr(isoDate), httpOnly: boolean, secure: boolean, ...comment });
const creator = object({ name: string, version: string }, comment);
const page = object({ startedDateTime: isoDate, id: string, title: string, pageTimings: object({}, { onContentLoad: number(-1), onLoad: number(-1), ...comment }) }, comment);
const postData = object({ mimeType: string }, { params: array(object({ name: string }, { value: string, fileName: string, contentType: string, ...comment })), text: string, ...comment });
const request = object(
  { method: string, url: absoluteUrl, httpVersion: string, cookies: array(cookie), headers: array(nameValue), queryString: array(nameValue), headersSize: integer, bodySize: integer },
  { postData, ...comment },
);
const content = object({ size: integer, mimeType: string }, { compression: integer, text: string, encoding: string, ...comment });
const response = object({ status: integer, statusText: string, httpVersion: string, cookies: array(cookie), headers: array(nameValue), content, redirectURL: string, headersSize: integer, bodySize: integer }, comment);
const cacheEntry = object({ lastAccess: isoDate, eTag: string, hitCount: integer }, { expires: isoDate, ...comment });
const cache = object({}, { beforeRequest: nullOr(cacheEntry), afterRequest: nullOr(cacheEntry), ...comment });
// "send, wait, receive [number]" are required and not -1; the others are -1 when they do not apply.
const timings = object({ send: number(0), wait: number(0), receive: number(0) }, { blocked: number(-1), dns: number(-1), connect: number(-1), ssl: number(-1), ...comment });
/** Chrome DevTools' WebSocket messages (what its HAR export writes). */
const webSocketMessage = object({ type: oneOf('send', 'receive'), time: number(0), opcode: integer, data: string });
const entry: Check = (v, w, p) => {
  object({ startedDateTime: isoDate, time: number(0), request, response, cache, timings }, { pageref: string, serverIPAddress: string, connection: string, ...comment })(v, w, p);
  if (isObject(v) && v._resourceType === 'websocket') array(webSocketMessage)(v._webSocketMessages, `${w}._webSocketMessages`, p);
};
const har = object({ log: object({ version: string, creator, entries: array(entry) }, { browser: creator, pages: array(page), ...comment }) });

export function harProblems(value: unknown): string[] {
  const problems: string[] = [];
  har(value, 'har', problems);
  return problems;
}
