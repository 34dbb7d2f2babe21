// A Node.js receiver: node:http, no framework.
import { createServer } from 'node:http';
import { init, Webhook } from 'webhook-signature-wasm';

await init(); // reads the module beside the wrapper (node:fs)
const webhook = new Webhook(process.env.WEBHOOK_SECRET);

const server = createServer(async (request, response) => {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  try {
    webhook.verify({ headers: request.headers, body: Buffer.concat(chunks) });
  } catch (error) {
    console.warn(`webhook rejected: ${error.code}`); // for your logs, never for the sender
    response.writeHead(401).end();
    return;
  }
  // … store the delivery (deduplicate on webhook-id), then acknowledge:
  response.writeHead(204).end();
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
