import { Type, type Static } from '@sinclair/typebox';

// Every variable the orchestrator reads, with its default. Values arrive as strings from the environment
// or `.env`; TypeBox converts and checks them. `.env.example` documents each one for operators.

const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });
const Int = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });
const Num = (def: number, min: number, max: number, description: string) =>
  Type.Number({ default: def, minimum: min, maximum: max, description });
const Str = (def: string, description: string) => Type.String({ default: def, description });
const OptStr = (description: string) => Type.Optional(Type.String({ description }));

export const EnvSchema = Type.Object({
  SPM_ENV: Type.Union([Type.Literal('production'), Type.Literal('lab')], {
    default: 'production',
    description: 'lab = the simulated fleet with its fixed lab-only tokens; production refuses to start without API_TOKENS',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),

  UYUNI_URL: Str('http://127.0.0.1:8090/rpc/api', 'XML-RPC endpoint of the UYUNI server'),
  UYUNI_USER: Str('admin', 'UYUNI API user (a read-write API user)'),
  UYUNI_PASSWORD: Str('', 'UYUNI API password (secret)'),
  UYUNI_VERIFY_SSL: Bool(true, 'verify the UYUNI TLS certificate'),
  UYUNI_CA_FILE: OptStr('PEM bundle to trust for UYUNI (self-signed UYUNI CA)'),
  UYUNI_TIMEOUT_SECONDS: Int(30, 1, 600, 'per-call timeout of UYUNI XML-RPC calls'),
  UYUNI_POLL_INTERVAL_MINUTES: Int(30, 1, 1440, 'interval of the uyuni-sync Temporal Schedule'),
  UYUNI_SYNC_WORKERS: Int(10, 1, 100, 'parallel UYUNI calls during a sync'),
  UYUNI_TIMEZONE: Str('UTC', 'time zone of the UYUNI JVM (it sends zone-less dates)'),
  UYUNI_TEST_GROUP_PREFIX: Str('test-', 'system groups whose systems are test systems'),
  UYUNI_RETRY_MAX_ATTEMPTS: Int(6, 1, 100, 'attempts of a failing UYUNI activity before the sync run fails'),
  UYUNI_RETRY_INITIAL_SECONDS: Num(2, 0.05, 300, 'first retry delay of a failing UYUNI activity (doubles each time, at most 60 s)'),
  UYUNI_SYNC_ON_START: Bool(true, 'the worker runs the uyuni-sync Schedule once right after it starts'),
  UYUNI_ALLOW_MODULES: Bool(
    true,
    "pass allowModules=true when scheduling errata and package installs (without it UYUNI refuses every system with a modular channel, e.g. RHEL 8/9 AppStream, with fault 2107)",
  ),

  DATABASE_URL: OptStr('postgres://user:password@host:port/db (secret; wins over DB_*)'),
  DB_HOST: Str('127.0.0.1', 'PostgreSQL host'),
  DB_PORT: Int(5432, 1, 65535, 'PostgreSQL port'),
  DB_NAME: Str('spm', 'PostgreSQL database'),
  DB_USER: Str('postgres', 'PostgreSQL user'),
  DB_PASSWORD: Str('', 'PostgreSQL password (secret)'),
  DB_POOL_MAX: Int(10, 1, 200, 'connections per process'),

  SCORE_KERNEL_PENALTY: Num(30, 0, 100, 'Success Score: kernel package in the erratum'),
  SCORE_REBOOT_PENALTY: Num(15, 0, 100, 'Success Score: reboot required'),
  SCORE_CONFIG_PENALTY: Num(10, 0, 100, 'Success Score: package ships config files'),
  SCORE_DEPENDENCY_PENALTY: Num(3, 0, 100, 'Success Score: per additional package (dependency)'),
  SCORE_DEPENDENCY_MAX_PENALTY: Num(15, 0, 100, 'Success Score: cap of the dependency penalty'),
  SCORE_SIZE_PENALTY_PER_MB: Num(2, 0, 100, 'Success Score: per MB of packages'),
  SCORE_SIZE_MAX_PENALTY: Num(10, 0, 100, 'Success Score: cap of the size penalty'),
  SCORE_HISTORY_MAX_PENALTY: Num(20, 0, 100, 'Success Score: cap of the failure-history penalty'),
  SCORE_HISTORY_MIN_TESTS: Int(3, 1, 1000, 'Success Score: tests needed before history counts'),
  SCORE_SMALL_PATCH_BONUS: Num(5, 0, 100, 'Success Score: bonus for a small patch'),
  SCORE_SMALL_PATCH_BYTES: Int(102_400, 0, 1_000_000_000, 'Success Score: "small patch" size limit'),

  TEST_CPU_DELTA_THRESHOLD: Num(20, 0, 100, 'max CPU % (points) increase after patching'),
  TEST_MEMORY_DELTA_THRESHOLD: Num(15, 0, 100, 'max memory % (points) increase after patching'),

  TEMPORAL_ADDRESS: Str('127.0.0.1:7233', 'Temporal frontend host:port'),
  TEMPORAL_NAMESPACE: Str('default', 'Temporal namespace'),
  TEMPORAL_TASK_QUEUE: Str('spm-orchestrator', 'task queue of the orchestrator worker'),
  TEMPORAL_UI_URL: Str('http://127.0.0.1:8233', 'the Temporal Web UI the dashboard links workflows to'),
  TEMPORAL_TLS: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], {
    default: 'auto',
    description: 'TLS to the Temporal frontend: auto = on when TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT or TEMPORAL_API_KEY is set',
  }),
  TEMPORAL_TLS_CA: OptStr('PEM file of the CA that signed the Temporal frontend certificate; empty = the system trust store'),
  TEMPORAL_TLS_CERT: OptStr('PEM client certificate for mTLS (with TEMPORAL_TLS_KEY)'),
  TEMPORAL_TLS_KEY: OptStr('PEM private key of the client certificate (the file is secret; its path is not)'),
  TEMPORAL_TLS_SERVER_NAME: OptStr('server name (SNI and certificate check) when it differs from the host of TEMPORAL_ADDRESS'),
  TEMPORAL_API_KEY: OptStr('API key for Temporal Cloud (sent as Authorization: Bearer; implies TLS) (secret)'),

  API_HOST: Str('127.0.0.1', 'address the REST API binds to'),
  API_PORT: Int(5001, 1, 65535, 'REST API port'),
  API_TOKENS: OptStr('comma-separated name:role:token (roles viewer, operator, approver, admin) (secret)'),

  SALT_URL: Str('http://127.0.0.1:8091', 'salt-api (rest_cherrypy) base URL'),
  SALT_USER: Str('spm', 'salt-api eauth user'),
  SALT_PASSWORD: Str('', 'salt-api password or shared secret (secret)'),
  SALT_EAUTH: Str('sharedsecret', 'salt-api eauth backend (sharedsecret, file, pam, auto, ldap)'),
  SALT_VERIFY_SSL: Bool(true, 'verify the salt-api TLS certificate'),
  SALT_TIMEOUT_SECONDS: Int(30, 1, 600, 'per-request timeout of salt-api calls'),

  PROMETHEUS_URL: Str('http://127.0.0.1:9090', 'Prometheus base URL'),
  PROMETHEUS_TIMEOUT_SECONDS: Int(10, 1, 120, 'per-query timeout'),
  NODE_EXPORTER_PORT: Int(9100, 1, 65535, 'node_exporter port on every host (the instance label is <ip>:<port>)'),

  TEST_SETTLE_SECONDS: Int(60, 0, 3600, 'wait after patching (and reboot) before the after-metrics'),
  TEST_METRICS_RANGE_SECONDS: Int(60, 2, 3600, 'range over which before/after metrics are averaged'),
  TEST_METRICS_WINDOW_SECONDS: Int(60, 2, 3600, 'rate() window for CPU %: several scrape intervals'),
  TEST_POLL_SECONDS: Num(5, 0.1, 300, 'how often UYUNI actions and reboots are polled'),
  TEST_ACTION_TIMEOUT_SECONDS: Int(1800, 10, 86400, 'longest a UYUNI patch action may take'),
  TEST_REBOOT_TIMEOUT_SECONDS: Int(900, 10, 86400, 'longest a test system may take to come back from a reboot'),
  TEST_LEASE_WAIT_SECONDS: Int(15, 1, 3600, 'how often a test waiting for a free test system looks again'),
  TEST_AUTO_DISPATCH: Bool(false, 'start queued tests whenever a test system is free'),
  TEST_BASELINE_TIMEOUT_SECONDS: Int(900, 10, 86400, 'longest wait for a test system to settle before its baseline; then the test is inconclusive'),
  APPROVAL_REMINDER_HOURS: Num(24, 0.0001, 8760, 'hours between reminders while a passed patch waits for a decision'),
  APPROVAL_EXPIRY_DAYS: Num(14, 0.00001, 3650, 'days after which an undecided approval expires'),

  WORKER_METRICS_PORT: Int(9464, 0, 65535, 'port of the worker /metrics (Temporal SDK metrics); 0 = off'),
  WORKER_METRICS_HOST: Str('127.0.0.1', 'address the worker /metrics binds to (0.0.0.0 to let a remote Prometheus scrape it)'),
  WORKER_SHUTDOWN_GRACE_SECONDS: Int(30, 0, 3600, 'time in-flight activities get on shutdown'),
  WORKER_MAX_CONCURRENT_ACTIVITIES: Int(100, 1, 10_000, 'activity slots of the worker'),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: Int(40, 2, 1_000, 'workflow tasks the worker runs at once (the SDK default is 40)'),
  WORKER_MANAGE_SCHEDULES: Bool(true, 'the worker creates or updates the uyuni-sync and test-dispatch Schedules at start'),
  WORKER_WORKFLOW_BUNDLE: OptStr('prebuilt workflow bundle (npm run build:workflows); empty = bundle workflows/ at start'),
  WORKER_MAX_CACHED_WORKFLOWS: Int(500, 0, 100_000, 'sticky workflow cache size'),

  SMTP_URL: OptStr('smtp://[user:password@]host[:port] (STARTTLS) or smtps://… (TLS from the start, port 465); empty = no email (secret)'),
  SMTP_FROM: Str('SPM Orchestrator <spm@localhost>', 'From: of notification emails'),
  SMTP_REQUIRE_TLS: Bool(true, 'smtp:// must upgrade with STARTTLS or the send fails (false only for a local relay without TLS)'),
  SMTP_VERIFY_TLS: Bool(true, 'verify the SMTP server certificate'),
  SMTP_TIMEOUT_SECONDS: Int(10, 1, 120, 'connection, greeting and socket timeout of SMTP'),
  SMTP_MAX_CONNECTIONS: Int(5, 1, 50, 'pooled SMTP connections per worker'),
  NOTIFY_EMAIL_RECIPIENTS: OptStr(
    'email recipients per event type: "approval.*=approvers@example.org,lead@example.org;deployment.halted=oncall@example.org;*=sre@example.org" (kept as email endpoints named env:<filter>)',
  ),
  NOTIFY_DASHBOARD_URL: Str('http://127.0.0.1:5001', 'base URL of the dashboard as people reach it (links in notifications)'),
  NOTIFY_WEBHOOK_TIMEOUT_SECONDS: Int(10, 1, 60, 'timeout of one webhook request (headers and body)'),
  NOTIFY_RETRY_SCHEDULE: Str(
    '5s,5m,30m,2h,5h,10h,14h,20h,24h',
    'delays after each failed attempt (s, m, h suffixes); Standard Webhooks: 10 attempts over ~3 days, then the delivery fails',
  ),
  NOTIFY_ENDPOINT_CONCURRENCY: Int(10, 1, 100, 'default deliveries in flight per endpoint (each endpoint may set its own)'),
  NOTIFY_SWEEP_SECONDS: Int(60, 1, 3600, 'how often an idle endpoint workflow looks for due deliveries when nothing woke it'),

  HEALTH_REQUIRED: Str('postgres,temporal', 'dependencies whose failure makes /health/detail answer 503'),

  // issue 14: NVD / FIRST EPSS / CISA KEV enrichment
  INTEL_AFTER_SYNC: Bool(true, 'start (or wake) the intel-enrichment workflow after each committed sync'),
  NVD_URL: Str('https://services.nvd.nist.gov/rest/json/cves/2.0', 'NVD CVE API 2.0 endpoint (or a mirror)'),
  NVD_API_KEY: OptStr('NVD API key (secret; sent as the apiKey header): 50 instead of 5 requests per 30 s'),
  NVD_TIMEOUT_SECONDS: Int(60, 1, 600, 'per-request timeout of NVD calls'),
  NVD_RATE_LIMIT: Int(0, 0, 1000, 'NVD requests per rolling window; 0 = NVD\'s published limit (5 without a key, 50 with one)'),
  NVD_RATE_WINDOW_SECONDS: Int(30, 1, 3600, 'the rolling window of NVD_RATE_LIMIT'),
  NVD_BACKOFF_SECONDS: Num(6, 0.01, 600, 'first wait after an NVD 403/429/503 (doubles per attempt, at most 60 s)'),
  INTEL_NVD_LOOKUP_MAX: Int(200, 0, 1_000_000, 'up to this many new or stale CVEs are fetched one cveId at a time; more are swept by lastModified windows'),
  INTEL_NVD_SWEEP_DAYS: Int(120, 1, 20_000, 'how far back the first lastModified sweep reaches for CVEs never fetched'),
  INTEL_NVD_STALE_HOURS: Int(24, 2, 8760, 'a CVE whose NVD record is older than this is refreshed'),
  EPSS_URL: Str('https://api.first.org/data/v1/epss', 'FIRST EPSS API endpoint (or a mirror)'),
  INTEL_EPSS_STALE_HOURS: Int(24, 1, 8760, 'EPSS scores older than this are fetched again (FIRST publishes daily)'),
  KEV_URL: Str('https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json', 'CISA KEV catalog (or a mirror)'),
  INTEL_KEV_REFRESH_HOURS: Int(24, 1, 8760, 'the KEV catalog is downloaded again after this long'),
  INTEL_TIMEOUT_SECONDS: Int(120, 1, 3600, 'per-request timeout of EPSS and KEV downloads'),
});

export type Env = Static<typeof EnvSchema>;

/** Variables whose values are never printed, logged or put in workflow history. */
export const SECRET_VARIABLES = new Set<keyof Env>([
  'UYUNI_PASSWORD',
  'DATABASE_URL',
  'DB_PASSWORD',
  'API_TOKENS',
  'SALT_PASSWORD',
  'NVD_API_KEY',
  'TEMPORAL_API_KEY',
  'SMTP_URL',
]);
