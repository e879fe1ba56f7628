// A webhook dispatcher in a process of its own (test/e2e/webhooks.test.ts kills it with SIGKILL mid-delivery):
// `node --import tsx test/helpers/webhook-dispatcher-child.ts`, with WEBHOOK_DISPATCHER_OPTIONS holding
// startWebhookDispatcher's options as JSON. Writes "dispatching" on stdout once started; SIGTERM stops it.
import { startWebhookDispatcher, type WebhookDispatcherOptions } from "../../src/webhook-dispatcher";

const options = JSON.parse(process.env.WEBHOOK_DISPATCHER_OPTIONS ?? "{}") as WebhookDispatcherOptions;
const dispatcher = startWebhookDispatcher(options);
process.stdout.write("dispatching\n");
process.once("SIGTERM", () => void dispatcher.stop().then(() => process.exit(0)));
// Keeps the process alive (the dispatcher's timers are unref'd).
setInterval(() => undefined, 1 << 30);
