// What a failed command says: the server's one-line error, and what had already run.
import { shortId } from "./protocol";

/**
 * The message of a failed upgrade/downgrade/stamp. The server puts the steps that had
 * finished (committed) before the failure in the error's data (`{steps: ["upgrade <id>"]}`):
 * the user must know the database moved even though the command failed.
 */
export function failureMessage(message: string, data: unknown): string {
  const steps = stepsOf(data);
  if (steps.length === 0) return message;
  const ran = steps.map((step) => {
    const [verb, id] = step.split(" ");
    return id ? `${verb} ${shortId(id)}` : step;
  });
  const count = ran.length === 1 ? "1 step ran before it and stays" : `${ran.length} steps ran before it and stay`;
  return `${message} (${count} applied: ${ran.join(", ")})`;
}

function stepsOf(data: unknown): string[] {
  if (typeof data !== "object" || data === null) return [];
  const steps = (data as { steps?: unknown }).steps;
  return Array.isArray(steps) ? steps.filter((s): s is string => typeof s === "string") : [];
}
