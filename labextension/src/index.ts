/**
 * hptaa-lab: the "HPO studies" sidebar of JupyterLab.
 */

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { StudiesPanel } from './panel';

export { StudiesPanel } from './panel';
export * from './tokens';

/** Id of the sidebar panel (also its DOM id). */
export const PANEL_ID = 'hptaa-lab-studies';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"
  viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">
  <circle cx="5" cy="5" r="3"/><circle cx="5" cy="19" r="3"/>
  <circle cx="19" cy="12" r="3"/>
  <path d="M4 7h2v10H4zM6.5 6.2l10.8 5-.9 1.8-10.8-5z"/></g></svg>`;

/** Icon of the sidebar tab: a small lineage graph. */
export const studiesIcon = new LabIcon({
  name: 'hptaa-lab:studies',
  svgstr: ICON_SVG
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'hptaa-lab:sidebar',
  description: 'Sidebar with the HPO studies of the hptaa_lab trial store.',
  autoStart: true,
  requires: [ILabShell],
  optional: [INotebookTracker, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    tracker: INotebookTracker | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const panel = new StudiesPanel({
      tracker,
      activate: id => shell.activateById(id),
      serverSettings: app.serviceManager.serverSettings
    });
    panel.id = PANEL_ID;
    panel.title.icon = studiesIcon;
    panel.title.caption = 'HPO studies';
    shell.add(panel, 'left', { rank: 650 });
    // Reopen the panel after a reload if it was open.
    restorer?.add(panel, PANEL_ID);
  }
};

export default plugin;
