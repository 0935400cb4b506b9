/**
 * The "HPO studies" sidebar panel: lineage tree, study details, cell insertion.
 */

import { INotebookTracker } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ApiError, fetchStudies, fetchStudy } from './api';
import { fmt, renderTrajectory } from './chart';
import {
  buildLineage,
  ILineageNode,
  magicOption,
  nextStudyName,
  tuneCellTemplate
} from './lineage';
import {
  IDiff,
  IStudiesReply,
  IStudyReply,
  IStudySummary,
  ITwin
} from './tokens';

/** Polling period while a study runs (the fastest the panel polls). */
export const RUNNING_POLL_MS = 2000;

/** Polling period while no study runs, to notice a new one. */
export const IDLE_POLL_MS = 10000;

/** Options of the panel. */
export interface IStudiesPanelOptions {
  /** Tracks the active notebook, where the insert button adds a cell. */
  tracker: INotebookTracker | null;
  /** Activates a notebook after a cell was inserted into it. */
  activate: (id: string) => void;
  /** Server settings; the page's own by default. */
  serverSettings?: ServerConnection.ISettings;
}

/**
 * Sidebar panel listing the HPO studies of the trial store.
 *
 * It polls the server only while it is visible: every RUNNING_POLL_MS while
 * a study has running trials, every IDLE_POLL_MS otherwise.
 */
export class StudiesPanel extends Widget {
  constructor(options: IStudiesPanelOptions) {
    super();
    this._tracker = options.tracker;
    this._activate = options.activate;
    this._settings = options.serverSettings;
    this.addClass('hptaa-StudiesPanel');
    this._buildSkeleton();
  }

  /** Name of the selected study, or null. */
  get selected(): string | null {
    return this._selected;
  }

  /** Fetch the studies (and the selected study) and redraw. */
  refresh(): Promise<void> {
    if (this._pending === null) {
      this._pending = this._refresh().finally(() => {
        this._pending = null;
        this._schedule();
      });
    }
    return this._pending;
  }

  /** Select a study and show its details. */
  async select(name: string): Promise<void> {
    this._selected = name;
    this._markSelection();
    await this._loadDetail();
    // Drawn below the whole list: bring it into view.
    if (!this._detailNode.hidden) {
      this._detailNode.scrollIntoView?.({ block: 'nearest' });
    }
  }

  /**
   * Insert a `%%hptaa tune --from <previous>` cell below the active cell of
   * the active notebook.
   *
   * @returns Null on success, else why nothing was inserted.
   */
  insertTuneCell(previous: string): string | null {
    const panel = this._tracker?.currentWidget ?? null;
    const model = panel?.content.model ?? null;
    if (panel === null || model === null) {
      return 'Open a notebook first: the cell goes into the active notebook.';
    }
    const taken = new Set(this._studies.map(s => s.name));
    const direction =
      this._studies.find(s => s.name === previous)?.direction ?? 'minimize';
    const source = tuneCellTemplate(
      previous,
      nextStudyName(previous, taken),
      direction,
      this._storeLocation
    );
    const notebook = panel.content;
    const index =
      notebook.activeCellIndex < 0
        ? model.sharedModel.cells.length
        : notebook.activeCellIndex + 1;
    model.sharedModel.insertCell(index, { cell_type: 'code', source });
    notebook.activeCellIndex = index;
    this._activate(panel.id);
    this._insertedInto = panel.context.path;
    return null;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._cancel();
  }

  protected onBeforeDetach(msg: Message): void {
    this._cancel();
    super.onBeforeDetach(msg);
  }

  dispose(): void {
    this._cancel();
    super.dispose();
  }

  // -- fetching -------------------------------------------------------------

  private async _refresh(): Promise<void> {
    if (document.hidden) {
      return;
    }
    let reply: IStudiesReply;
    try {
      reply = await fetchStudies(this._settings);
    } catch (error) {
      this._studies = [];
      this._showMessage(messageOf(error), 'error');
      this._renderTree();
      this._renderDetail(null);
      return;
    }
    this._studies = reply.studies;
    this._storeLocation = reply.store.exists ? reply.store.location : null;
    this._showMessage(reply.message, 'info');
    this._renderTree();

    const known = this._studies.some(s => s.name === this._selected);
    if (this._selected !== null && !known) {
      this._selected = null;
      this._renderDetail(null);
    } else if (this._selected !== null && this._detailIsStale()) {
      await this._loadDetail();
    }
  }

  private async _loadDetail(): Promise<void> {
    const name = this._selected;
    if (name === null) {
      return;
    }
    if (name === '.' || name === '..') {
      // The browser would resolve the name in the URL as a path step.
      this._detail = null;
      this._renderDetail(
        null,
        `A study named '${name}' cannot be shown here: a browser reads the ` +
          'name as a step of a path. Use `hptaa show` in a terminal.'
      );
      return;
    }
    try {
      const rows = this._studies;
      const reply = await fetchStudy(name, this._settings);
      if (this._selected === name) {
        this._detail = reply;
        // The rows as they were before the fetch: a change meanwhile shows at
        // the next poll.
        this._noteDetailRows(reply, rows);
        this._renderDetail(reply);
      }
    } catch (error) {
      if (this._selected === name) {
        this._detail = null;
        this._renderDetail(null, messageOf(error));
      }
    }
  }

  /**
   * Whether the selected study (or its twin) changed since it was shown: it
   * runs, or its row in the list differs from the row it had then. (Reloading
   * only while one ran left the detail at "1 running" once the study had
   * finished, or its process had been killed, between two polls.)
   */
  private _detailIsStale(): boolean {
    const detail = this._detail;
    if (detail === null || detail.study.name !== this._selected) {
      return true;
    }
    return this._studies.some(
      s =>
        this._detailRows.has(s.name) &&
        (s.state === 'running' ||
          this._detailRows.get(s.name) !== rowSignature(s))
    );
  }

  /** Remember the list's rows of the study shown and of its twin. */
  private _noteDetailRows(reply: IStudyReply, rows: IStudySummary[]): void {
    const names = [
      reply.study.name,
      reply.twin?.transfer_study,
      reply.twin?.no_transfer_study
    ];
    this._detailRows = new Map(
      rows
        .filter(s => names.includes(s.name))
        .map(s => [s.name, rowSignature(s)])
    );
  }

  private _schedule(): void {
    this._cancel();
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    const running = this._studies.some(s => s.state === 'running');
    this._timer = window.setTimeout(
      () => void this.refresh(),
      running ? RUNNING_POLL_MS : IDLE_POLL_MS
    );
  }

  private _cancel(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  // -- rendering ------------------------------------------------------------

  private _buildSkeleton(): void {
    const header = element('div', 'hptaa-Header');
    const title = element('h2', 'hptaa-Title', 'HPO studies');
    const refresh = element('button', 'hptaa-RefreshButton jp-Button', '↻');
    refresh.title = 'Refresh the list of studies';
    refresh.setAttribute('aria-label', 'Refresh the list of studies');
    refresh.addEventListener('click', () => {
      // A click reloads the shown study too, whatever the list says.
      this._detailRows = new Map();
      this._detail = null;
      void this.refresh();
    });
    header.append(title, refresh);

    this._message = element('div', 'hptaa-Message');
    this._message.setAttribute('role', 'status');
    this._tree = element('ul', 'hptaa-Lineage');
    this._tree.setAttribute('role', 'tree');
    this._tree.setAttribute('aria-label', 'Studies by lineage');
    this._detailNode = element('section', 'hptaa-Detail');
    this._detailNode.hidden = true;
    this.node.append(header, this._message, this._tree, this._detailNode);
  }

  private _showMessage(text: string | null, kind: 'info' | 'error'): void {
    this._message.textContent = text ?? '';
    this._message.hidden = !text;
    this._message.classList.toggle('hptaa-mod-error', kind === 'error');
  }

  private _renderTree(): void {
    const focused = document.activeElement;
    const refocus =
      focused instanceof HTMLElement && this._tree.contains(focused)
        ? focused.dataset.study
        : undefined;
    this._tree.replaceChildren(
      ...buildLineage(this._studies).map(node => this._renderNode(node))
    );
    this._markSelection();
    if (refocus !== undefined) {
      this._rowOf(refocus)?.focus();
    }
  }

  private _renderNode(node: ILineageNode): HTMLElement {
    const study = node.study;
    const item = element('li', 'hptaa-Study');
    item.setAttribute('role', 'treeitem');
    item.dataset.study = study.name;

    const row = element('button', 'hptaa-StudyRow');
    row.dataset.study = study.name;
    row.title = `Show ${study.name}`;
    row.addEventListener('click', () => void this.select(study.name));
    const name = element('span', 'hptaa-StudyName', study.name);
    if (study.state === 'running') {
      name.prepend(element('span', 'hptaa-RunningDot'));
      name.title = `${study.n_running} trial(s) running`;
    }
    row.append(
      name,
      element('span', 'hptaa-Badge', transferLabel(study)),
      element('span', 'hptaa-Count', trialCount(study)),
      element('span', 'hptaa-Incumbent', incumbentText(study))
    );
    item.append(row);

    if (node.children.length > 0) {
      const group = element('ul', 'hptaa-Children');
      group.setAttribute('role', 'group');
      group.append(...node.children.map(child => this._renderNode(child)));
      item.append(group);
    }
    return item;
  }

  private _rowOf(name: string): HTMLElement | null {
    for (const row of this._tree.querySelectorAll('.hptaa-StudyRow')) {
      if (row instanceof HTMLElement && row.dataset.study === name) {
        return row;
      }
    }
    return null;
  }

  private _markSelection(): void {
    for (const item of this._tree.querySelectorAll('.hptaa-Study')) {
      const on =
        item instanceof HTMLElement && item.dataset.study === this._selected;
      item.classList.toggle('hptaa-mod-selected', on);
      item.setAttribute('aria-selected', String(on));
    }
  }

  private _renderDetail(reply: IStudyReply | null, error?: string): void {
    const section = this._detailNode;
    if (reply === null) {
      section.replaceChildren();
      if (error !== undefined) {
        section.append(element('p', 'hptaa-Message hptaa-mod-error', error));
      }
      section.hidden = error === undefined;
      return;
    }

    const study = reply.study;
    const facts = [
      `previous: ${study.previous ?? 'none'}`,
      `transfer: ${transferLabel(study)}${transferOptions(study.transfer_options)}`,
      trialCount(study),
      incumbentText(study) +
        (study.incumbent_number === null
          ? ''
          : ` (trial ${study.incumbent_number})`)
    ];
    const chart = element('div', 'hptaa-Chart');
    chart.append(
      element('h4', 'hptaa-Subtitle', 'Incumbent trajectory'),
      renderTrajectory(reply.trajectory, study.direction)
    );

    const insert = element(
      'button',
      'hptaa-InsertButton',
      `Insert %%hptaa tune ${magicOption('--from', study.name)}`
    );
    insert.title =
      'Insert a cell that tunes a new study with this one as previous study ' +
      'into the active notebook';
    const status = element('p', 'hptaa-InsertStatus');
    status.setAttribute('role', 'status');
    const showNote = (): void => {
      const note = this._insertNote;
      const shown = note !== null && note.study === study.name;
      status.textContent = shown ? note.text : '';
      status.classList.toggle('hptaa-mod-error', shown && note.error);
    };
    insert.addEventListener('click', () => {
      const problem = this.insertTuneCell(study.name);
      this._insertNote = {
        study: study.name,
        text: problem ?? `Cell inserted into ${this._insertedInto}.`,
        error: problem !== null
      };
      showNote();
    });
    // The detail is drawn again every 2 s while a study runs: keep the note.
    showNote();

    const failure =
      study.last_error === null
        ? []
        : [
            element(
              'p',
              'hptaa-LastError',
              `last error (trial ${study.last_error.number}): ` +
                (study.last_error.error || 'none recorded')
            )
          ];
    section.replaceChildren(
      element('h3', 'hptaa-DetailTitle', study.name),
      element('p', 'hptaa-Facts', facts.join(' · ')),
      ...failure,
      chart,
      renderTwin(reply.twin, study.name),
      renderDiff(reply.diff),
      insert,
      status
    );
    section.hidden = false;
  }

  private _tracker: INotebookTracker | null;
  private _activate: (id: string) => void;
  private _settings: ServerConnection.ISettings | undefined;
  private _studies: IStudySummary[] = [];
  private _selected: string | null = null;
  /** What the last Insert click said, for the study it was clicked on. */
  private _insertNote: { study: string; text: string; error: boolean } | null =
    null;
  private _detail: IStudyReply | null = null;
  /** The store's file, as the list last said (null without one). */
  private _storeLocation: string | null = null;
  /** The notebook the last Insert wrote into. */
  private _insertedInto = 'the active notebook';
  /** The list's rows (see rowSignature) of the shown study and its twin. */
  private _detailRows = new Map<string, string>();
  private _pending: Promise<void> | null = null;
  private _timer: number | null = null;
  private _message!: HTMLElement;
  private _tree!: HTMLElement;
  private _detailNode!: HTMLElement;
}

function renderTwin(twin: ITwin | null, name: string): HTMLElement {
  const node = element('p', 'hptaa-Speedup');
  if (twin === null) {
    node.hidden = true;
    return node;
  }
  const isTwin = twin.no_transfer_study === name;
  const lead = isTwin
    ? `No-transfer twin of ${twin.transfer_study}. `
    : `No-transfer twin: ${twin.no_transfer_study}. `;
  if (twin.speedup === null) {
    node.textContent = lead + (twin.message ?? 'No speedup yet.');
    return node;
  }
  node.append(
    lead,
    element('strong', '', `Speedup of transfer: ${fmt(twin.speedup)}×`),
    ` — ${twin.transfer_study} reached the twin's final incumbent ` +
      `${fmt(twin.target)} after ${evaluations(twin.evaluations_transfer)}, ` +
      `${twin.no_transfer_study} after ${evaluations(twin.evaluations_no_transfer)}.`
  );
  return node;
}

/** "1 evaluation", "3 evaluations". */
function evaluations(n: number | null): string {
  return `${n} evaluation${n === 1 ? '' : 's'}`;
}

function renderDiff(diff: IDiff | null): HTMLElement {
  const node = element('div', 'hptaa-Diff');
  if (diff === null) {
    node.append(
      element('p', 'hptaa-Note', 'First study of its lineage: no diff.')
    );
    return node;
  }
  node.append(
    element('h4', 'hptaa-Subtitle', `Search-space diff to ${diff.previous}`)
  );
  if (diff.error !== null) {
    node.append(element('p', 'hptaa-Message hptaa-mod-error', diff.error));
    return node;
  }
  if (diff.identical) {
    node.append(element('p', 'hptaa-Note', 'The search spaces are identical.'));
  }

  const table = element('table', 'hptaa-DiffTable');
  const head = element('tr');
  for (const title of ['name', 'change', 'previous → current']) {
    head.append(element('th', '', title));
  }
  table.append(head);
  for (const change of diff.changes ?? []) {
    const row = element(
      'tr',
      `hptaa-Change-${change.kinds[0].replace(/ /g, '-')}`
    );
    const shownName =
      change.previous_name !== null && change.previous_name !== change.name
        ? `${change.previous_name} → ${change.name}`
        : change.name;
    const sides = [change.previous || '—', change.current || '—'].join(' → ');
    row.append(
      element('td', 'hptaa-DiffName', shownName),
      element('td', 'hptaa-DiffKind', change.label),
      element('td', 'hptaa-DiffSides', sides)
    );
    table.append(row);
  }
  node.append(table);

  for (const rule of diff.rules_removed ?? []) {
    node.append(element('p', 'hptaa-Note', `Removed ${rule}`));
  }
  for (const rule of diff.rules_added ?? []) {
    node.append(element('p', 'hptaa-Note', `Added ${rule}`));
  }
  for (const s of diff.suggestions ?? []) {
    node.append(
      element(
        'p',
        'hptaa-Note',
        `Maybe renamed: ${s.previous} → ${s.current} (${s.reason}); ` +
          'confirm it with a mapping.'
      )
    );
  }
  return node;
}

function transferLabel(study: IStudySummary): string {
  if (study.transfer !== null) {
    return study.transfer;
  }
  return study.twin_of !== null ? 'no transfer (twin)' : 'no transfer';
}

/** " (ties=null, portfolio=0)" for a study created with transfer options. */
function transferOptions(options: Record<string, unknown> | undefined): string {
  const entries = Object.entries(options ?? {});
  if (entries.length === 0) {
    return '';
  }
  const text = entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  return ` (${text})`;
}

/** What the list says of a study, to tell when its detail is out of date. */
function rowSignature(s: IStudySummary): string {
  return JSON.stringify([
    s.state,
    s.n_trials,
    s.n_complete,
    s.n_fail,
    s.n_running,
    s.n_abandoned,
    s.incumbent_value
  ]);
}

/** "incumbent 0.91", marked "(max)" for a maximised study. */
function incumbentText(study: IStudySummary): string {
  const max = study.direction === 'maximize' ? ' (max)' : '';
  return `incumbent ${fmt(study.incumbent_value)}${max}`;
}

function trialCount(study: IStudySummary): string {
  const parts = [`${study.n_trials} trial${study.n_trials === 1 ? '' : 's'}`];
  if (study.n_running > 0) {
    parts.push(`${study.n_running} running`);
  }
  if (study.n_abandoned > 0) {
    parts.push(`${study.n_abandoned} left by ended processes`);
  }
  if (study.n_fail > 0) {
    parts.push(`${study.n_fail} failed`);
  }
  return parts.join(', ');
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  console.error('hptaa-lab:', error);
  return `Unexpected error: ${String(error)}. See the browser console.`;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
