// One subscription through the `graphql-ws` client that browser and React Native apps use,
// for tests/api/test_third_party_clients.py.
//
//   LOYALTY_TOKEN=<jwt> node subscribe.mjs ws://127.0.0.1:8000/graphql 'subscription { ... }'
//
// Prints one JSON line per message: {"type":"next","payload":{...}} for every event, then one
// final line, and exits with a code that says how the subscription ended:
//   0 {"type":"complete"}                          the server completed it
//   2 {"type":"error","errors":[...]}              the server answered with GraphQL errors
//   3 {"type":"closed","code":4403,"reason":"..."} the socket closed (no retries)
//   4 {"type":"failed","message":"..."}            anything else
//  64 usage
import { createClient } from "graphql-ws";
import WebSocket from "ws"; // Node 22+ and browsers have a global WebSocket; Node 20 has not.

const [url, query] = process.argv.slice(2);
const token = process.env.LOYALTY_TOKEN;
if (!url || !query) {
  console.error("usage: LOYALTY_TOKEN=<jwt> node subscribe.mjs <ws-url> <subscription>");
  process.exit(64);
}

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  // Report the first close instead of reconnecting (graphql-ws retries 4403 by default).
  retryAttempts: 0,
});

function finish(line, code) {
  print(line);
  process.exitCode = code;
  client.dispose();
}

client.subscribe(
  { query },
  {
    next: (payload) => print({ type: "next", payload }),
    complete: () => finish({ type: "complete" }, 0),
    error: (error) => {
      if (Array.isArray(error)) {
        finish({ type: "error", errors: error }, 2);
      } else if (error && typeof error.code === "number" && "reason" in error) {
        finish({ type: "closed", code: error.code, reason: error.reason }, 3);
      } else {
        finish({ type: "failed", message: String(error?.message ?? error) }, 4);
      }
    },
  },
);
