/// <reference lib="dom" />
// Mounts <DunningBanner> into #react-banner on the example account page (bundled with esbuild).
import { createRoot } from 'react-dom/client';
import { DunningBanner } from './DunningBanner.tsx';

const root = document.getElementById('react-banner');
if (root) createRoot(root).render(<DunningBanner endpoint={root.dataset.endpoint ?? '/account/dunning-notice'} />);
