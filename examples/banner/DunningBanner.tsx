/// <reference lib="dom" />
// Dunning banner for My Account, as a React component:
//
//   <DunningBanner endpoint="/account/dunning-notice" />
//
// `endpoint` is YOUR backend's route, which forwards GET {noticeApi}customers/{id}/notice for the
// signed-in user (the notice API needs AWS credentials that must stay on your server) and passes on
// its 200 JSON or its 204. React escapes every text it renders; the button links only to http(s).
import { useEffect, useState } from 'react';

/** What the notice API returns for a customer with an open dunning case. */
export interface DunningNotice {
  stage: string;
  severity: 'info' | 'warning' | 'critical';
  headline: string;
  body: string;
  action: { label: string; url: string };
  terminatesAt: string;
}

type State = { kind: 'loading' } | { kind: 'empty' } | { kind: 'error' } | { kind: 'shown'; notice: DunningNotice };

export interface DunningBannerProps {
  endpoint: string;
  /** Called with the notice once it is known (null when there is none). */
  onLoad?: (notice: DunningNotice | null) => void;
}

export function DunningBanner({ endpoint, onLoad }: DunningBannerProps) {
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const response = await fetch(endpoint, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal: abort.signal });
      if (response.status === 204) {
        setState({ kind: 'empty' });
        onLoad?.(null);
        return;
      }
      if (!response.ok) throw new Error(`notice endpoint answered ${response.status}`);
      const notice = (await response.json()) as DunningNotice;
      setState({ kind: 'shown', notice });
      onLoad?.(notice);
    })().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      console.warn('dunning banner:', error);
      setState({ kind: 'error' });
    });
    return () => abort.abort();
  }, [endpoint]);

  if (state.kind !== 'shown') return <div data-state={state.kind} hidden />;
  const { notice } = state;
  const severity = ['info', 'warning', 'critical'].includes(notice.severity) ? notice.severity : 'warning';
  const url = safeUrl(notice.action?.url);
  return (
    <div data-state="shown">
      <div className={`dunning-banner dunning-banner--${severity}`} role={severity === 'critical' ? 'alert' : 'status'}>
        <strong className="dunning-banner__headline">{notice.headline}</strong>
        <p className="dunning-banner__body">{notice.body}</p>
        {url && (
          <a className="dunning-banner__action" href={url}>
            {notice.action.label || 'Update payment details'}
          </a>
        )}
      </div>
    </div>
  );
}

function safeUrl(value: unknown): string | undefined {
  try {
    const url = new URL(String(value), globalThis.location?.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
