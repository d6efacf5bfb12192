// Upload: multipart/form-data through busboy (a devDependency), plugged in as a
// content-type parser. POST /upload answers JSON: each field, and each file's
// name, type, size and SHA-256.
//   npx tsx examples/upload.ts
//   curl -s -F title=holiday -F a=@photo.jpg -F b=@notes.txt http://127.0.0.1:8080/upload
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
//
// The body is buffered by salvo before the parser runs (at most maxBodySize,
// 8 MiB here; the route's bodyLimit says 413 earlier for this route), and
// busboy parses it from that Buffer. busboy still bounds what it keeps: each
// file is hashed as it is parsed, never collected.
import { createHash } from 'node:crypto';
import busboy from 'busboy';
import { App, type Request } from 'salvo';

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

function parseMultipart(req: Request<any, any>, body: Buffer): Promise<Form> {
  return new Promise((resolve, reject) => {
    const form: Form = { fields: Object.create(null), files: [] };
    let bb: busboy.Busboy;
    try {
      // busboy reads the boundary from the Content-Type; a missing one throws here (-> 400).
      bb = busboy({ headers: req.headers as Record<string, string>, limits: LIMITS });
    } catch (err) {
      reject(err);
      return;
    }
    let pending = 0;
    let finished = false;
    const done = () => {
      if (finished && pending === 0) resolve(form);
    };
    bb.on('field', (name, value) => {
      form.fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      pending++;
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (d: Buffer) => {
        size += d.length;
        hash.update(d);
      });
      stream.on('end', () => {
        form.files.push({ field, filename: info.filename ?? '', mimeType: info.mimeType, size, sha256: hash.digest('hex') });
        pending--;
        done();
      });
    });
    bb.on('filesLimit', () => reject(Object.assign(new Error('too many files'), { statusCode: 413, code: 'UPLOAD_TOO_MANY_FILES' })));
    bb.on('error', reject);
    bb.on('close', () => {
      finished = true;
      done();
    });
    bb.end(body);
  });
}

function uploadApp(): App {
  const app = new App({ maxBodySize: 8 * 1024 * 1024 });
  // A parser that throws or rejects answers 400 SALVO_ERR_BODY_PARSE (a malformed form).
  app.addContentTypeParser('multipart/form-data', parseMultipart);
  app.post('/upload', { bodyLimit: 8 * 1024 * 1024 }, (req) => {
    const form = req.body as unknown as Form | Buffer;
    // Only the raw catch-all gives a Buffer: the request was not multipart.
    if (Buffer.isBuffer(form)) return Object.assign(new Error('send multipart/form-data'), { statusCode: 415, code: 'UPLOAD_NOT_MULTIPART' });
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
