// npm install graphql-ws ws   (browsers and Node 22+ have WebSocket built in: drop `ws`)
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const getToken = async () => process.env.LOYALTY_TOKEN; // your app's token refresh

const client = createClient({
  url: process.env.LOYALTY_WS_URL ?? "wss://loyalty.example.com/graphql",
  webSocketImpl: WebSocket,
  // A function, so every reconnect sends a fresh token.
  connectionParams: async () => ({ Authorization: `Bearer ${await getToken()}` }),
});

let lastVersion;
client.subscribe(
  { query: "subscription { walletChanged { delta balance pending version tier { name } } }" },
  {
    next: ({ data }) => {
      const event = data.walletChanged;
      if (lastVersion !== undefined && event.version !== lastVersion + 1) {
        console.log("missed an event: refetch me { wallet }");
      }
      lastVersion = event.version;
      console.log(`balance ${event.balance}, pending ${event.pending}, version ${event.version}`);
    },
    error: (error) => console.error("closed:", error.code ?? error), // 4403: bad token
    complete: () => console.log("ended (token expired or fell behind): refetch, subscribe again"),
  },
);
