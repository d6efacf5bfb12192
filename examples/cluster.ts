/**
 * One app on WORKERS worker threads (default 2) sharing PORT (default 8080)
 * on HOST (default 127.0.0.1) with SO_REUSEPORT.  GET / -> 'Hello world!',
 * GET /worker -> the answering worker's id.  SIGTERM / SIGINT drain every
 * worker (server.close({ timeout })) and exit 0.
 *
 *   WORKERS=4 PORT=8080 npx tsx examples/cluster.ts
 */
import { App, cluster } from 'salvo';

const workers = Number(process.env.WORKERS ?? 2);
void cluster(({ id }) => new App().get('/', () => 'Hello world!').get('/worker', () => id), {
  workers,
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '127.0.0.1',
}).then((c) => {
  console.log(`${c.workers.length} workers on http://${c.host}:${c.port}/`);
  c.onReplace = (oldId, newId, ms) => console.log(`worker ${oldId} died; ${newId} replaces it (${ms} ms)`);
});
