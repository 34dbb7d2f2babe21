// A Node.js receiver: node:http, no framework.
import { createServer } from 'node:http';
import { BodyTooLargeError, readBody, Webhook } from 'webhook-signature-wasm';

const webhook = new Webhook(process.env.WEBHOOK_SECRET);

const server = createServer(async (request, response) => {
  let body;
  try {
    body = await readBody(request, { maxBytes: 1024 * 1024 }); // never more than 1 MiB held per request
  } catch (error) {
    // Over the limit: the rest is never read. Otherwise the client broke off mid-body.
    response.writeHead(error instanceof BodyTooLargeError ? 413 : 400, { connection: 'close' }).end();
    return;
  }
  try {
    webhook.verify(body, request.headers); // the parsed JSON, or a throw
  } catch (error) {
    console.warn(`webhook rejected: ${error.code}`); // for your logs, never for the sender
    response.writeHead(401).end();
    return;
  }
  // … store the delivery (deduplicate on webhook-id), then acknowledge:
  response.writeHead(204).end();
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
