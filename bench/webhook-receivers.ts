import http from 'node:http';
import type { AddressInfo } from 'node:net';

// The bench's plugin sites, in a process of their own (as real sites are): `count` receivers that
// answer 200 at once and one that takes requests and never answers. Each webhook id's first arrival
// is reported to the parent, in epoch milliseconds with sub-millisecond precision, every 10 ms.

const count = Number(process.argv[2] ?? 101);
const epochNow = () => performance.timeOrigin + performance.now();
const seen = new Set<string>();
let pending: Array<[string, number]> = [];

function listen(server: http.Server): Promise<string> {
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function main() {
  const urls: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = req.headers['webhook-id'];
        if (typeof id === 'string' && !seen.has(id)) {
          seen.add(id);
          pending.push([id, epochNow()]);
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
      });
    });
    urls.push(await listen(server));
  }
  const hanging = await listen(http.createServer((req) => req.resume()));
  setInterval(() => {
    if (pending.length === 0) return;
    process.send?.({ arrivals: pending });
    pending = [];
  }, 10);
  process.send?.({ ready: { urls, hanging } });
  process.on('disconnect', () => process.exit(0));
}

void main();
