import type { Command } from 'commander';
import { createLogger, silentLogger, type Logger } from '../../core/index.js';

type AgentOptions = { config?: string; port?: string; address?: string; region?: string; endpointUrl?: string };

/**
 * `coffer agent`: a local caching agent compatible with the AWS Secrets Manager Agent (same HTTP API, token
 * header, TOML configuration file and defaults; see src/agent/server.ts). It reads secrets from Coffer (or any
 * Secrets Manager endpoint) with the AWS SDK's own resolution of credentials, region and endpoint
 * (environment, shared config and credentials files with profiles, web identity, AWS_ENDPOINT_URL).
 */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('serve secrets to local applications from an in-memory cache (AWS Secrets Manager Agent compatible, port 2773)')
    .option('-c, --config <file>', "the Secrets Manager Agent's TOML configuration file")
    .option('--port <port>', 'port to listen on (default 2773, or http_port from the file; 0 for any free port)')
    .option('--address <address>', 'loopback address to listen on (default 127.0.0.1; any other address is refused)')
    .option('--region <region>', 'region (default: the file, AWS_REGION, AWS_DEFAULT_REGION, then the profile)')
    .option('--endpoint-url <url>', "Secrets Manager's URL (default: the file, then the AWS SDK: AWS_ENDPOINT_URL, the profile)")
    .action(runAgent);
}

async function runAgent(options: AgentOptions, command: Command): Promise<void> {
  // Loaded here, not at the top: every other `coffer` command would load the agent and the SDK for nothing.
  const agent = await import('../../agent/agent.js');
  let config;
  let token: string;
  try {
    config = agent.loadAgentConfig(options.config, {
      httpPort: options.port === undefined ? undefined : agent.port(/^\d+$/.test(options.port) ? Number(options.port) : options.port, '--port'),
      httpAddress: options.address,
      region: options.region,
      endpointUrl: options.endpointUrl,
    });
    token = agent.resolveToken(config.ssrfEnvVariables);
  } catch (error) {
    if (error instanceof agent.AgentConfigError) fail(error.message);
    throw error;
  }
  const logger: Logger = config.logLevel === 'none' ? silentLogger : createLogger({ level: config.logLevel });
  const version = command.parent?.version() ?? '0.0.0';

  // The SDK's notice about future Node versions is for the operator, not for each start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({
    // AWS_DEFAULT_REGION as the AWS CLI reads it (the SDK for JavaScript reads only AWS_REGION), which
    // `source <data-dir>/admin-credentials` sets; without either, the SDK asks the profile.
    region: config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
    endpoint: config.endpointUrl,
    // Secrets Manager's log (Coffer's audit log, CloudTrail) shows the calls came from the agent, as the Agent's do.
    customUserAgent: `coffer-agent/${version}`,
    // A server that stopped answering fails a refresh in seconds, so the cached value is served meanwhile.
    requestHandler: { connectionTimeout: 2000, requestTimeout: 10_000 },
  });
  try {
    await client.config.region();
  } catch {
    fail('no region: set AWS_REGION (or AWS_DEFAULT_REGION), region in the configuration file, a profile with a region, or pass --region');
  }

  const cache = new agent.SecretCache({
    client,
    ttlSeconds: config.ttlSeconds,
    maxCacheSize: config.cacheSize,
    maxStaleSeconds: config.ignoreTransientErrors ? config.maxStaleSeconds : 0,
    logger,
  });
  let running;
  try {
    running = await agent.startAgentServer({ config, token, cache, logger });
  } catch (error) {
    fail(`cannot listen on ${config.httpAddress}:${config.httpPort}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  process.stdout.write(`Agent/${version} listening on ${running.url}\n`);
  logger.info('agent started', { url: running.url, ttlSeconds: config.ttlSeconds, cacheSize: config.cacheSize, maxStaleSeconds: config.maxStaleSeconds });

  const stop = () => {
    void running.close().finally(() => {
      client.destroy();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  process.stderr.write(`coffer agent: ${message}\n`);
  process.exit(1);
}
