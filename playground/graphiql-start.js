// GraphiQL on /graphql with the playground's key (this tab's session storage), if one is set.
const key = sessionStorage.getItem('inference-ui-key');
const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
const headers = JSON.stringify({ Authorization: `Bearer ${key ?? '<your key>'}` }, null, 2);
ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, { fetcher, defaultHeaders: headers }));
