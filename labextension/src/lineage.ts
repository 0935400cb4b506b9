/**
 * The lineage of studies as a tree: each study under its previous study.
 */

import { IStudySummary } from './tokens';

/** A study and the studies that name it as their previous study. */
export interface ILineageNode {
  study: IStudySummary;
  children: ILineageNode[];
}

/**
 * Arrange studies as a forest, previous -> current.
 *
 * A study whose previous study is missing from the list is a root. Studies
 * keep the order they come in (the server sends oldest first). A study that
 * only a loop of previous links reaches (which the store should never hold)
 * becomes a root too, so every study is shown exactly once.
 */
export function buildLineage(studies: IStudySummary[]): ILineageNode[] {
  const nodes = new Map<string, ILineageNode>();
  for (const study of studies) {
    nodes.set(study.name, { study, children: [] });
  }

  const roots: ILineageNode[] = [];
  for (const node of nodes.values()) {
    const previous = node.study.previous;
    const parent = previous === null ? undefined : nodes.get(previous);
    if (parent === undefined || parent === node) {
      roots.push(node);
    } else {
      parent.children.push(node);
    }
  }

  const seen = new Set<string>();
  const visit = (node: ILineageNode): void => {
    seen.add(node.study.name);
    node.children.forEach(visit);
  };
  roots.forEach(visit);
  for (const node of nodes.values()) {
    if (!seen.has(node.study.name)) {
      // Cut the loop here: this node becomes a root, without its children
      // that are already shown or lead back to it.
      node.children = node.children.filter(
        child => !seen.has(child.study.name) && child !== node
      );
      roots.push(node);
      visit(node);
    }
  }
  return roots;
}

/**
 * A name for the next study after `previous` that is not taken yet:
 * `<previous>-next`, else `<previous>-next-2`, `-next-3`, ...
 */
export function nextStudyName(previous: string, taken: Set<string>): string {
  let name = `${previous}-next`;
  for (let k = 2; taken.has(name); k++) {
    name = `${previous}-next-${k}`;
  }
  return name;
}

/**
 * The `%%hptaa tune` cell that continues from `previous`, in the direction
 * `previous` was tuned in (a maximised study's cell says `direction`).
 */
export function tuneCellTemplate(
  previous: string,
  study: string,
  direction: 'minimize' | 'maximize' = 'minimize',
  store: string | null = null
): string {
  const lines = [
    `%%hptaa tune ${magicOption('--study', study)} ` +
      `${magicOption('--from', previous)} --trials 40`,
    '# Define `space`: the current search space, e.g.',
    "#   space = {'lr': (1e-4, 1e-1, 'log'), 'units': (16, 256)}"
  ];
  if (direction === 'maximize') {
    lines.push(
      '# Define `objective(config)`: train with the configuration and return',
      `#   the value to maximize, as ${previous} did:`,
      'direction = "maximize"'
    );
  } else {
    lines.push(
      '# Define `objective(config)`: train with the configuration and return',
      '#   the value to minimize (add `direction = "maximize"` otherwise).'
    );
  }
  lines.push(`# The trials of ${previous} give the tuning a head start.`);
  if (store !== null) {
    // The notebook's own store may be another one (its folder's .hptaa/).
    lines.push(
      `# ${previous} is in the store ${store}: if this notebook uses another`,
      `# (%hptaa store shows it), run %hptaa store ${store} first.`
    );
  }
  return lines.join('\n');
}

/**
 * `--option value` for a magic line, which the magic splits as a shell does:
 * a value with spaces, quotes or other shell characters is single-quoted, and
 * one that starts with "-" is joined by "=" (else it reads as an option).
 */
export function magicOption(option: string, value: string): string {
  const plain = /^[\w.+\-/:@%,]+$/.test(value);
  const quoted = plain ? value : `'${value.replace(/'/g, `'"'"'`)}'`;
  return value.startsWith('-') ? `${option}=${quoted}` : `${option} ${quoted}`;
}
