// Upload: multipart/form-data through busboy (a devDependency), streamed. POST /upload
// answers JSON: each field, and each file's name, type, size and SHA-256.
//   npx tsx examples/upload.ts
//   curl -s -F title=holiday -F a=@photo.jpg -F b=@notes.txt http://127.0.0.1:8080/upload
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
//
// The route streams its body (`bodyStream: true`): the handler runs once the head has
// arrived and pipes req.stream() into busboy as the bytes come in; each file is hashed
// as it arrives, never buffered whole. So an upload may be far larger than the app's
// maxBodySize (1 MiB by default): the route's bodyLimit (64 MiB here) bounds it, and
// while busboy is behind salvo stops reading the connection (about 128 KiB per upload
// in salvo's memory, see docs/API.md "Streamed request bodies").
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { App, SalvoError, type Request } from 'salvo';

interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
}
interface Form {
  fields: Record<string, string>;
  files: UploadedFile[];
}

/** busboy's limits: what one request may hold (files are hashed, not kept). */
const LIMITS = { files: 10, fields: 50, fieldSize: 64 * 1024, parts: 60 };

function uploadError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

/** Parses the form while it arrives: fields kept, files hashed chunk by chunk. */
async function parseMultipart(req: Request): Promise<Form> {
  const form: Form = { fields: Object.create(null), files: [] };
  let bb: busboy.Busboy;
  try {
    // busboy reads the boundary from the Content-Type; a missing one throws here (-> 400).
    bb = busboy({ headers: req.headers as Record<string, string>, limits: LIMITS });
  } catch (err) {
    throw new SalvoError('SALVO_ERR_BODY_PARSE', (err as Error).message);
  }
  const files: Promise<void>[] = [];
  bb.on('field', (name, value) => {
    form.fields[name] = value;
  });
  bb.on('file', (field, stream, info) => {
    const hash = createHash('sha256');
    let size = 0;
    stream.on('data', (d: Buffer) => {
      size += d.length;
      hash.update(d);
    });
    files.push(new Promise((resolve) => stream.on('end', () => {
      form.files.push({ field, filename: info.filename ?? '', mimeType: info.mimeType, size, sha256: hash.digest('hex') });
      resolve();
    })));
  });
  let tooMany = false;
  bb.on('filesLimit', () => {
    tooMany = true;
  });
  try {
    // Backpressure end to end: busboy's writes pace req.stream(), which paces the socket.
    await pipeline(req.stream(), bb);
  } catch (err) {
    // The body itself failed (too large, client gone): its status stands; else the form is malformed.
    if (err instanceof SalvoError) throw err;
    throw new SalvoError('SALVO_ERR_BODY_PARSE', (err as Error).message);
  }
  await Promise.all(files);
  if (tooMany) throw uploadError(413, 'UPLOAD_TOO_MANY_FILES', 'too many files');
  return form;
}

function uploadApp(): App {
  const app = new App();
  app.post('/upload', { bodyStream: true, bodyLimit: 64 * 1024 * 1024 }, async (req) => {
    // Answered before the body is read: salvo closes the connection after it.
    if (!/^multipart\/form-data\b/i.test(req.header('content-type') ?? '')) {
      return uploadError(415, 'UPLOAD_NOT_MULTIPART', 'send multipart/form-data');
    }
    const form = await parseMultipart(req);
    form.files.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
    return form;
  });
  return app;
}

async function main(): Promise<void> {
  const server = await uploadApp().listen({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`salvo upload listening on http://${server.host}:${server.port}/upload`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

void main();
