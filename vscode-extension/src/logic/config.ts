// Which workspace folders get a server: those with Distill (or Alembic) settings at their root.

export const CONFIG_FILES = ["distill.toml", "pyproject.toml", "alembic.ini"] as const;
export type ConfigFile = (typeof CONFIG_FILES)[number];

/** A `[tool.distill]` table, or one of its sub-tables, in a pyproject.toml. */
export function pyprojectHasDistill(text: string): boolean {
  return /^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*distill[ \t]*(\.[^\]\n]*)?\][ \t]*(#.*)?$/m.test(text);
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
  return undefined;
}
