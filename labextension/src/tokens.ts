/**
 * Shapes of the JSON the hptaa_lab server extension returns.
 *
 * They mirror hptaa_lab/server/_payloads.py; keep the two in step.
 */

/** State of a study, derived from its trials. */
export type StudyState = 'running' | 'finished' | 'empty';

/** One study as listed by `GET hptaa/api/studies`. */
export interface IStudySummary {
  name: string;
  previous: string | null;
  transfer: string | null;
  sampler: string;
  direction: 'minimize' | 'maximize';
  n_trials: number;
  n_complete: number;
  n_fail: number;
  /** RUNNING trials whose process may still run them. */
  n_running: number;
  /** RUNNING trials whose process has ended: they never finish. */
  n_abandoned: number;
  incumbent_value: number | null;
  state: StudyState;
  created_at: string | null;
  /** Name of this transfer study's no-transfer twin, if it has one. */
  scratch_twin: string | null;
  /** Name of the transfer study this no-transfer study is the twin of. */
  twin_of: string | null;
}

/** Reply of `GET hptaa/api/studies`. */
export interface IStudiesReply {
  store: { location: string; exists: boolean };
  /** Why the list is empty (no store yet, or no study in it), or null. */
  message: string | null;
  studies: IStudySummary[];
}

/** One trial on the incumbent trajectory. */
export interface ITrajectoryPoint {
  number: number;
  state: 'RUNNING' | 'COMPLETE' | 'FAIL';
  value: number | null;
  /** Best value after this trial; null before the first complete one. */
  incumbent: number | null;
}

/** How one hyperparameter changed from the previous to the current space. */
export interface IChange {
  name: string;
  previous_name: string | null;
  kinds: string[];
  label: string;
  previous: string;
  current: string;
}

/** A rename the diff suggests but that no mapping confirmed. */
export interface IRenameSuggestion {
  previous: string;
  current: string;
  score: number;
  reason: string;
}

/** Search-space diff of a study against its previous study. */
export interface IDiff {
  previous: string;
  /** Why the diff could not be computed, or null. */
  error: string | null;
  identical?: boolean;
  changes?: IChange[];
  suggestions?: IRenameSuggestion[];
  /** Conditions and forbidden clauses only the previous space has, as text. */
  rules_removed?: string[];
  /** Conditions and forbidden clauses only the current space has, as text. */
  rules_added?: string[];
}

/** The transfer study against its no-transfer twin. */
export interface ITwin {
  transfer_study: string;
  no_transfer_study: string;
  /** Final incumbent of the no-transfer twin. */
  target: number | null;
  evaluations_transfer: number | null;
  evaluations_no_transfer: number | null;
  /** How many times fewer evaluations transfer needed; null if unknown. */
  speedup: number | null;
  message: string | null;
}

/** Reply of `GET hptaa/api/studies/NAME`. */
export interface IStudyReply {
  study: IStudySummary & {
    seed: number | null;
    attrs: Record<string, unknown>;
    /** Options of the transfer method; empty for its defaults. */
    transfer_options: Record<string, unknown>;
    counts: Record<'RUNNING' | 'COMPLETE' | 'FAIL', number>;
    incumbent_number: number | null;
    /** The last failed trial and its error in one line, or null. */
    last_error: { number: number; error: string } | null;
  };
  space: unknown;
  mapping: unknown;
  lineage: string[];
  trajectory: ITrajectoryPoint[];
  diff: IDiff | null;
  twin: ITwin | null;
}

/** Error body of every endpoint. */
export interface IErrorReply {
  status: number;
  reason: string;
  message: string;
}
