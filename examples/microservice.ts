// A JSON microservice: CRUD over an in-memory store of todos.
//   npx tsx examples/microservice.ts
//   curl -s -X POST http://127.0.0.1:8080/todos -H 'content-type: application/json' -d '{"title":"milk"}'
//   curl -s 'http://127.0.0.1:8080/todos?done=false&q=mil&limit=10&offset=0'
//   curl -s -X PATCH http://127.0.0.1:8080/todos/1 -H 'content-type: application/json' -d '{"done":true}'
//   curl -s -X PUT http://127.0.0.1:8080/todos/1 -H 'content-type: application/json' -d '{"title":"oat milk","done":false}'
//   curl -s -X DELETE http://127.0.0.1:8080/todos/1 -o /dev/null -w '%{http_code}\n'
//   curl -s -X POST http://127.0.0.1:8080/todos -H 'content-type: application/json' -d '{"title":""}'   # 400
// Shows: routes with parameters, query parameters (filtering, paging), body
// validation errors as 400 JSON, response schemas (fast-json-stringify),
// a request decorator, and hooks (a request id on onRequest, a timing header
// on onSend, a per-route preHandler that insists on JSON).
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
import { randomUUID } from 'node:crypto';
import { App, SalvoError, type Request } from 'salvo';

// Typings for the properties added with app.decorateRequest() below.
declare module 'salvo' {
  interface Request {
    requestId: string;
    startedAt: number;
  }
}

interface Todo {
  id: number;
  title: string;
  done: boolean;
  createdAt: string;
  updatedAt: string;
}

/** An error the default error handler turns into a 4xx JSON answer. */
class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
}

// ---- validation -------------------------------------------------------------

type TodoInput = { title?: string; done?: boolean };

/** Checks a body for POST (title required), PUT (all fields) or PATCH (any subset). */
function validate(body: unknown, mode: 'create' | 'replace' | 'patch'): TodoInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'TODO_INVALID_BODY', 'the body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (key !== 'title' && key !== 'done') throw new HttpError(400, 'TODO_INVALID_BODY', `unknown field: ${key}`);
  }
  const out: TodoInput = {};
  if (b.title !== undefined) {
    if (typeof b.title !== 'string' || b.title.trim() === '' || b.title.length > 200) {
      throw new HttpError(400, 'TODO_INVALID_BODY', 'title must be a non-empty string of at most 200 characters');
    }
    out.title = b.title.trim();
  } else if (mode !== 'patch') {
    throw new HttpError(400, 'TODO_INVALID_BODY', 'title is required');
  }
  if (b.done !== undefined) {
    if (typeof b.done !== 'boolean') throw new HttpError(400, 'TODO_INVALID_BODY', 'done must be a boolean');
    out.done = b.done;
  } else if (mode === 'replace') {
    throw new HttpError(400, 'TODO_INVALID_BODY', 'done is required');
  }
  return out;
}

/** A query parameter as one string (the last one wins when repeated). */
function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function intParam(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, 'TODO_INVALID_QUERY', `${name} must be an integer ${min}-${max}`);
  }
  return n;
}

// ---- response schemas (compiled once at registration) -----------------------

const todoSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    title: { type: 'string' },
    done: { type: 'boolean' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
  required: ['id', 'title', 'done', 'createdAt', 'updatedAt'],
} as const;

const pageSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: todoSchema },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
} as const;

// ---- the service ------------------------------------------------------------

function buildApp(): App {
  const app = new App();
  const todos = new Map<number, Todo>();
  let nextId = 1;

  const find = (rawId: string): Todo => {
    const todo = /^[1-9][0-9]{0,9}$/.test(rawId) ? todos.get(Number(rawId)) : undefined;
    if (todo === undefined) throw new HttpError(404, 'TODO_NOT_FOUND', `no todo with id ${rawId}`);
    return todo;
  };

  // Decorators: defaults on the request prototype, set per request by the hook.
  app.decorateRequest('requestId', '');
  app.decorateRequest('startedAt', 0);

  // Every request (404s and 405s included) gets an id and a start time.
  app.addHook('onRequest', (req) => {
    req.startedAt = performance.now();
    req.requestId = req.header('x-request-id') ?? randomUUID();
  });

  // The body is serialized and about to be sent: add the id and the time the
  // work took. Headers are set here rather than in onRequest because an error
  // resets the reply (status and headers) before the error handler answers,
  // while onSend runs for every fixed-length answer, errors included.
  app.addHook('onSend', (req, res) => {
    res.header('X-Request-Id', req.requestId);
    res.header('Server-Timing', `app;dur=${(performance.now() - req.startedAt).toFixed(3)}`);
  });

  // A per-route hook: bodies must be declared as JSON (415 otherwise).
  const requireJson = (req: Request) => {
    const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new SalvoError('SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', type || '(none)');
  };
  const write = { preHandler: requireJson, schema: { response: { 200: todoSchema, 201: todoSchema } } };

  app.get('/todos', { schema: { response: { 200: pageSchema } } }, (req) => {
    const q = req.query;
    const limit = intParam('limit', one(q.limit), 20, 1, 100);
    const offset = intParam('offset', one(q.offset), 0, 0, Number.MAX_SAFE_INTEGER);
    const done = one(q.done);
    if (done !== undefined && done !== 'true' && done !== 'false') {
      throw new HttpError(400, 'TODO_INVALID_QUERY', 'done must be true or false');
    }
    const text = one(q.q)?.toLowerCase();
    let items = [...todos.values()];
    if (done !== undefined) items = items.filter((t) => t.done === (done === 'true'));
    if (text) items = items.filter((t) => t.title.toLowerCase().includes(text));
    return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
  });

  app.get('/todos/:id', { schema: { response: { 200: todoSchema } } }, (req) => find(req.params.id));

  app.post('/todos', write, async (req, res) => {
    // req.json() rejects with SALVO_ERR_INVALID_JSON (400) on malformed JSON.
    const input = validate(await req.json(), 'create');
    const now = new Date().toISOString();
    const todo: Todo = { id: nextId++, title: input.title as string, done: input.done ?? false, createdAt: now, updatedAt: now };
    todos.set(todo.id, todo);
    res.status(201).header('Location', `/todos/${todo.id}`);
    return todo;
  });

  app.put('/todos/:id', write, async (req) => {
    const todo = find(req.params.id);
    const input = validate(await req.json(), 'replace');
    Object.assign(todo, input, { updatedAt: new Date().toISOString() });
    return todo;
  });

  app.patch('/todos/:id', write, async (req) => {
    const todo = find(req.params.id);
    const input = validate(await req.json(), 'patch');
    Object.assign(todo, input, { updatedAt: new Date().toISOString() });
    return todo;
  });

  // null: 204 No Content.
  app.delete('/todos/:id', (req) => {
    todos.delete(find(req.params.id).id);
    return null;
  });

  app.get('/health', () => ({ status: 'ok', todos: todos.size }));

  return app;
}

async function main(): Promise<void> {
  const app = buildApp();
  const server = await app.listen({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`salvo microservice listening on http://${server.host}:${server.port}/todos (parser: ${server.parser})`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

void main();
