/**
 * A subtree rendered again only when its key changes: the log's steps and the editor's lines are
 * many, and a step forward changes two or three of them. `render` must read no signal (pass the
 * values in and put them in the key): a signal read there would not re-render it.
 */
import { Component, type ComponentChildren } from 'preact';

export interface KeepProps {
  readonly k: string;
  readonly render: () => ComponentChildren;
}

export class Keep extends Component<KeepProps> {
  override shouldComponentUpdate(next: KeepProps): boolean {
    return next.k !== this.props.k;
  }

  render(): ComponentChildren {
    return this.props.render();
  }
}
