// The hello world: `npm start`, or `npx tsx examples/hello.ts`.
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
import { App } from 'salvo';

async function main(): Promise<void> {
  const app = new App();
  app.get('/', () => 'Hello world!');

  const server = await app.listen({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`salvo listening on http://${server.host}:${server.port}/ (parser: ${server.parser})`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)));
  }
}

void main();
