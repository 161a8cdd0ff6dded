"""The GraphQL schema (SDL, the one place it is written) and the limits every query is
checked against before it runs: depth, aliases, list sizes, and introspection when disabled."""

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    ValidationContext,
    ValidationRule,
    build_schema,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

SDL = """
\"\"\"Any JSON value (event properties, enrichment).\"\"\"
scalar JSON

\"\"\"Tiers set the limits of a key or a JWT subject.\"\"\"
enum Tier { FREE PRO ENTERPRISE }

enum Bucket { MINUTE HOUR DAY }

enum Metric {
  EVENTS_BY_TYPE
  EVENTS_BY_COMPONENT
  \"\"\"The share of events whose type is "error".\"\"\"
  ERROR_RATE
  \"\"\"Model call latency in ms: points keyed p50 and p95 (nearest rank).\"\"\"
  AI_LATENCY
  TOKENS_BY_MODEL
  \"\"\"Spend on models in US dollars (usage at each model's price).\"\"\"
  COST_BY_MODEL
  \"\"\"Generations the guardrails blocked: points keyed prompt and answer.\"\"\"
  GUARDRAIL_BLOCKS
  \"\"\"The RPC hop's latency in ms, as the inference worker times its work calls:
  points keyed method:p50, method:p95 and method:p99 (a latency bucket's upper bound).\"\"\"
  RPC_LATENCY
  \"\"\"A traffic split's arms (filter.split names the split), keyed by arm: calls on each,\"\"\"
  REQUESTS_BY_ARM
  \"\"\"the calls that failed (neither answered nor cancelled by their client),\"\"\"
  ERRORS_BY_ARM
  \"\"\"the mean latency in ms of those answered,\"\"\"
  LATENCY_BY_ARM
  \"\"\"tokens in and out,\"\"\"
  TOKENS_BY_ARM
  \"\"\"and spend in US dollars.\"\"\"
  COST_BY_ARM
}

\"\"\"ISO 8601 instants; `to` is exclusive.\"\"\"
input TimeRange {
  from: String!
  to: String!
}

input MetricFilter {
  type: String
  component: String
  model: String
  \"\"\"The traffic split whose arms the *_BY_ARM metrics compare.\"\"\"
  split: String
}

type MetricPoint {
  \"\"\"The bucket's start (ISO 8601); null in totals.\"\"\"
  bucket: String
  \"\"\"The group: event type, component, model, or p50/p95; null where ungrouped.\"\"\"
  key: String
  value: Float!
}

type MetricSeries {
  metric: Metric!
  bucket: Bucket!
  points: [MetricPoint!]!
  totals: [MetricPoint!]!
  \"\"\"Whether this answer came from the cache.\"\"\"
  cached: Boolean!
}

input EventFilter {
  type: String
  component: String
  sessionId: String
}

type Event {
  id: ID!
  type: String!
  name: String
  component: String
  sessionId: String
  userId: String
  \"\"\"ISO 8601.\"\"\"
  timestamp: String!
  properties: JSON
  enrichment: JSON
}

type EventEdge {
  cursor: String!
  node: Event!
}

type PageInfo {
  hasNextPage: Boolean!
  endCursor: String
}

type EventConnection {
  edges: [EventEdge!]!
  pageInfo: PageInfo!
}

input EventInput {
  id: ID
  type: String!
  name: String
  component: String
  sessionId: String
  userId: String
  \"\"\"ISO 8601, or unix milliseconds; the time of receipt when absent.\"\"\"
  timestamp: JSON
  properties: JSON
}

type Rejection {
  index: Int!
  field: String!
  message: String!
}

type TrackResult {
  batchId: String!
  indexed: Boolean!
  \"\"\"Handed to the queue consumer, which indexes it shortly (GET /events/batches/{id} says when).\"\"\"
  queued: Boolean!
  accepted: Int!
  duplicates: Int
  rejected: [Rejection!]!
}

type Model {
  id: ID!
  ownedBy: String!
  task: String!
  \"\"\"US dollars per million input (prompt) tokens.\"\"\"
  inputPrice: Float!
  \"\"\"US dollars per million output (completion) tokens.\"\"\"
  outputPrice: Float!
  \"\"\"What a text model can do; null for an embedding model.\"\"\"
  capabilities: ModelCapabilities
}

type ModelCapabilities {
  tools: Boolean!
  vision: Boolean!
  jsonMode: Boolean!
  toolStreaming: Boolean!
  \"\"\"Tokens, prompt and answer together.\"\"\"
  contextWindow: Int!
  \"\"\"The sampling options it takes, in OpenAI's names (temperature, top_p, seed, stop, ...).\"\"\"
  options: [String!]!
}

type Limits {
  requestsPerMinute: Int!
  tokensPerDay: Int!
  eventsPerDay: Int!
  maxBatchSize: Int!
  allowedModels: [String!]!
  \"\"\"US dollars a day the tier may spend on models; 0: no budget.\"\"\"
  dailyBudgetUsd: Float!
}

type RateWindow {
  limit: Int!
  remaining: Int!
  resetSeconds: Int!
}

\"\"\"The caller's usage today (UTC).\"\"\"
type Usage {
  keyId: String!
  tier: Tier!
  day: String!
  requests: Int!
  promptTokens: Int!
  completionTokens: Int!
  cacheHits: Int!
  events: Int!
  \"\"\"Today's spend on models, in US dollars (usage at each model's price).\"\"\"
  costUsd: Float!
  \"\"\"Spend per day, model and provider over the last seven days, newest first.\"\"\"
  spend: [Spend!]!
  limits: Limits!
  window: RateWindow!
  \"\"\"The key's own limits, if it has any.\"\"\"
  policy: KeyPolicy
  \"\"\"The key's spend against its own budget, if it has one.\"\"\"
  budget: Budget
}

type Spend {
  day: String!
  model: String!
  provider: String!
  calls: Int!
  promptTokens: Int!
  completionTokens: Int!
  costUsd: Float!
}

type UnindexedBatch {
  batchId: ID!
  keyId: ID!
  receivedAt: Float!
  reason: String!
}

\"\"\"A message of a kept prompt, redacted.\"\"\"
type KeptMessage {
  role: String!
  content: String!
  toolCalls: [KeptToolCall!]!
}

type KeptToolCall {
  id: String!
  name: String!
  arguments: String!
}

\"\"\"A call's prompt and answer as kept (emails, phone and card numbers, keys and tokens redacted).\"\"\"
type PayloadLog {
  callId: ID!
  keyId: ID!
  tier: String!
  kind: String!
  model: String!
  provider: String!
  \"\"\"ok, or failed (the answer as far as it went)\"\"\"
  outcome: String!
  createdAt: Float!
  \"\"\"When the cron deletes it (seconds since the epoch, as createdAt).\"\"\"
  expiresAt: Float!
  messages: [KeptMessage!]!
  answer: String!
  toolCalls: [KeptToolCall!]!
  traceparent: String
}

type ApiKey {
  id: ID!
  prefix: String!
  name: String!
  tier: Tier!
  createdAt: String!
  revokedAt: String
  \"\"\"The key's own limits; null: its tier's only.\"\"\"
  policy: KeyPolicy
  rotatedAt: String
  \"\"\"After a rotation, the old secret works until then.\"\"\"
  previousValidUntil: String
  \"\"\"The key's spend against its own budget this period, if it has one.\"\"\"
  budget: Budget
}

\"\"\"A calendar period in UTC: a day, an ISO week (from Monday), a month.\"\"\"
enum BudgetPeriod { DAY WEEK MONTH }

\"\"\"A key's own limits: each narrows its tier's, never widens it; null: the tier's.\"\"\"
type KeyPolicy {
  \"\"\"The models the key may use (within its tier's).\"\"\"
  allowedModels: [String!]
  \"\"\"US dollars the key may spend on models per budget period.\"\"\"
  budgetUsd: Float
  budgetPeriod: BudgetPeriod!
  \"\"\"Spend at which an alert is raised (nothing is stopped).\"\"\"
  softBudgetUsd: Float
  requestsPerMinute: Int
  \"\"\"AI tokens a minute (prompt and answer; requests in flight hold their worst case).\"\"\"
  tokensPerMinute: Int
  \"\"\"AI requests in flight at once.\"\"\"
  maxConcurrent: Int
  \"\"\"ISO 8601: the key is refused (401) from then on.\"\"\"
  expiresAt: String
  metadata: JSON
}

input KeyPolicyInput {
  allowedModels: [String!]
  budgetUsd: Float
  budgetPeriod: BudgetPeriod = MONTH
  softBudgetUsd: Float
  requestsPerMinute: Int
  tokensPerMinute: Int
  maxConcurrent: Int
  expiresAt: String
  metadata: JSON
}

\"\"\"A key's spend against its own budget in the current period.\"\"\"
type Budget {
  limitUsd: Float!
  softLimitUsd: Float
  period: BudgetPeriod!
  \"\"\"The period's first day (UTC).\"\"\"
  periodStart: String!
  spentUsd: Float!
  remainingUsd: Float!
}

\"\"\"A limit a key reached, once a period: budget_soft, budget_reached, or a daily quota's 80% or
100% (daily_budget_usd_80, tokens_per_day_100, events_per_day_80, ...).\"\"\"
type Alert {
  keyId: ID!
  kind: String!
  \"\"\"The first day of the period it belongs to.\"\"\"
  period: String!
  limitValue: Float!
  value: Float!
  createdAt: String!
  \"\"\"When ALERT_WEBHOOK_URL took it.\"\"\"
  deliveredAt: String
}

\"\"\"A new key: `key` is shown this once and never stored.\"\"\"
type CreatedApiKey {
  key: String!
  apiKey: ApiKey!
}

\"\"\"A document of the caller's, for retrieval (POST /v1/documents uploads one).\"\"\"
type Document {
  id: ID!
  title: String!
  metadata: JSON
  bytes: Int!
  passages: Int!
  embedded: Int!
  \"\"\"ingesting, ready (searched), failed (resumable), deleting\"\"\"
  status: String!
  error: String
  createdAt: String!
}

\"\"\"A passage found by search, best first.\"\"\"
type Passage {
  id: ID!
  documentId: ID!
  title: String!
  passage: Int!
  score: Float!
  text: String!
}

type Query {
  \"\"\"
  The caller's metrics. `keyId` (admin only) reads another caller's: an ApiKey's id, or
  `jwt:<subject>` for a JWT user.
  \"\"\"
  eventMetrics(metric: Metric!, range: TimeRange!, bucket: Bucket = HOUR, filter: MetricFilter, keyId: ID): MetricSeries!
  \"\"\"The caller's events, newest first; `keyId` as for eventMetrics.\"\"\"
  events(filter: EventFilter, first: Int = 50, after: String, keyId: ID): EventConnection!
  models: [Model!]!
  usage: Usage!
  \"\"\"The caller's documents, oldest first.\"\"\"
  documents: [Document!]!
  \"\"\"The passages of the caller's ready documents nearest to `query` (all of them, or those named).\"\"\"
  search(query: String!, topK: Int = 4, minScore: Float = 0.5, documents: [ID!]): [Passage!]!
  \"\"\"Admin only.\"\"\"
  apiKeys: [ApiKey!]!
  \"\"\"The caller's alerts, newest first; the admin's: every key's, or `keyId`'s.\"\"\"
  alerts(keyId: ID, first: Int = 50): [Alert!]!
  \"\"\"Admin only: stored event batches waiting for the replay (D1 failed, or the queue gave up), and why.\"\"\"
  unindexedBatches: [UnindexedBatch!]!
  \"\"\"
  Admin only: one call's prompt and answer, redacted, where its key or tier keeps them
  (PAYLOAD_LOG_KEYS, PAYLOAD_LOG_TIERS); `callId` is its request id (the x-request-id header).
  \"\"\"
  payloadLog(callId: ID!): PayloadLog!
}

type Mutation {
  \"\"\"The same validation and storage as POST /events.\"\"\"
  trackEvents(events: [EventInput!]!): TrackResult!
  \"\"\"Admin only.\"\"\"
  createApiKey(name: String!, tier: Tier = FREE, policy: KeyPolicyInput): CreatedApiKey!
  \"\"\"Admin only. False when the key was already revoked or does not exist.\"\"\"
  revokeApiKey(id: ID!): Boolean!
  \"\"\"Admin only: replaces the key's policy (null: its tier's limits only).\"\"\"
  setApiKeyPolicy(id: ID!, policy: KeyPolicyInput): ApiKey!
  \"\"\"Admin only: a new secret (shown this once); the old one works `graceSeconds` more.\"\"\"
  rotateApiKey(id: ID!, graceSeconds: Int = 3600): CreatedApiKey!
}
"""

MAX_DEPTH = 15  # the standard introspection query (GraphiQL, gql) is 13 deep
MAX_ALIASES = 20
MAX_LIST_ARGUMENT = 100  # the largest `first`/`limit` a query may ask for

schema: GraphQLSchema = build_schema(SDL)


def _depth(node: Any, fragments: dict[str, Any], seen: frozenset[str] = frozenset()) -> int:
    selection_set = getattr(node, "selection_set", None)
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection, fragments, seen))
        elif hasattr(selection, "type_condition"):  # inline fragment
            deepest = max(deepest, _depth(selection, fragments, seen))
        elif (name := selection.name.value) not in seen and name in fragments:  # fragment spread
            deepest = max(deepest, _depth(fragments[name], fragments, seen | {name}))
    return deepest


class QueryLimitsRule(ValidationRule):
    """Refuses queries deeper than MAX_DEPTH, with more than MAX_ALIASES aliases, or asking
    for lists longer than MAX_LIST_ARGUMENT, before anything is resolved."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.aliases = 0

    def enter_document(self, node: Any, *_: Any) -> None:
        fragments = {d.name.value: d for d in node.definitions if d.kind == "fragment_definition"}
        for definition in node.definitions:
            if definition.kind == "operation_definition" and (depth := _depth(definition, fragments)) > MAX_DEPTH:
                self.report_error(GraphQLError(f"The query is {depth} levels deep; the limit is {MAX_DEPTH}", definition))

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1
            if self.aliases == MAX_ALIASES + 1:
                self.report_error(GraphQLError(f"The query uses more than {MAX_ALIASES} aliases", node))
        for argument in node.arguments or ():
            # Only an Int literal is checked here; a wrong type is the standard rules' to report.
            value = argument.value
            if argument.name.value in {"first", "last", "limit"} and isinstance(value, IntValueNode) \
                    and int(value.value) > MAX_LIST_ARGUMENT:
                self.report_error(GraphQLError(f"{argument.name.value} may be at most {MAX_LIST_ARGUMENT}", argument))


def validation_rules(introspection: bool) -> list[type[ValidationRule]]:
    rules = [*specified_rules, QueryLimitsRule]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


# Root fields whose answer is the same for every caller and every request of an isolate (the
# model catalog is code; the schema is the schema): api/graphql.py executes a query of only these
# once and keeps its answer.
STATIC_ROOT_FIELDS = frozenset({"models", "__typename", "__schema", "__type"})


def selects_static_fields_only(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation to run is a query whose every root selection is a static field."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        chosen = operations if len(operations) == 1 else []
    else:
        chosen = [o for o in operations if o.name is not None and o.name.value == operation_name]
    return len(chosen) == 1 and chosen[0].operation == OperationType.QUERY and all(
        isinstance(selection, FieldNode) and selection.name.value in STATIC_ROOT_FIELDS
        for selection in chosen[0].selection_set.selections)
