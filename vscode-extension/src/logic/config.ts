// Which workspace folders get a server: those with Distill (or Alembic) settings at their root.

export const CONFIG_FILES = ["distill.toml", "pyproject.toml", "alembic.ini"] as const;
export type ConfigFile = (typeof CONFIG_FILES)[number];

/** A `[tool.distill]` table (or `[tool.alembic]`, with `tool`), or a sub-table, in a pyproject.toml. */
export function pyprojectHasDistill(text: string, tool: "distill" | "alembic" = "distill"): boolean {
  const table = new RegExp(`^[ \\t]*\\[[ \\t]*tool[ \\t]*\\.[ \\t]*${tool}[ \\t]*(\\.[^\\]\\n]*)?\\][ \\t]*(#.*)?$`, "m");
  return table.test(text);
}

/**
 * The settings file that makes `contents` (file name -> text, for the config files
 * that exist at a folder's root) a Distill project, if any.
 */
export function detectConfig(contents: Partial<Record<ConfigFile, string>>): ConfigFile | undefined {
  if (contents["distill.toml"] !== undefined) return "distill.toml";
  const pyproject = contents["pyproject.toml"];
  if (pyproject !== undefined && pyprojectHasDistill(pyproject)) return "pyproject.toml";
  if (contents["alembic.ini"] !== undefined) return "alembic.ini";
  // An Alembic 1.16+ project may keep its settings in pyproject.toml alone.
  if (pyproject !== undefined && pyprojectHasDistill(pyproject, "alembic")) return "pyproject.toml";
  return undefined;
}
