// Starts GraphiQL on /graphql with the README's wallet query and a header template.
// Mint a token with `loyalty token --program demo --role member --sub alice` and paste it.
(function () {
  "use strict";

  var WALLET_QUERY = [
    "{",
    "  me {",
    "    displayName cardNumber",
    "    tier { name }",
    "    tierProgress { next { name } pointsToNext percent }",
    "    wallet { balance pending history(first: 5) { edges { node { kind points description } } } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var HEADERS = '{\n  "Authorization": "Bearer <token>"\n}';

  var fetcher = GraphiQL.createFetcher({
    url: window.location.href.split(/[?#]/)[0],
    headers: { Accept: "application/graphql-response+json, application/json;q=0.9" },
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: WALLET_QUERY,
      defaultHeaders: HEADERS,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
