// Deutsch: Sie-Form, freundlich und klar. „Abonnement bei {productName}“ statt Bindestrich-Komposita,
// damit jeder Produktname passt.
import type { Catalog } from './catalog-shape.ts';

export const de: Catalog = {
  language: 'de',
  greeting: { named: 'Hallo {customerName},', anonymous: 'Guten Tag,' },
  nameFallback: '',
  messages: {
    payment_failed: {
      subject: 'Wir konnten Ihre Zahlung nicht einziehen',
      heading: 'Wir konnten Ihre Zahlung nicht einziehen',
      body: [
        'Wir haben versucht, die Zahlung von {amount} für Ihr Abonnement bei {productName} einzuziehen, leider ohne Erfolg.',
        'Damit Ihr Abonnement weiterläuft, aktualisieren Sie bitte Ihre Zahlungsdaten unter [Mein Konto]({myAccountUrl}) oder über die Schaltfläche unten. Wir versuchen die Zahlung in einigen Tagen erneut.',
      ],
      action: 'Zahlungsdaten aktualisieren',
      banner: {
        headline: 'Wir konnten Ihre Zahlung nicht einziehen',
        body: 'Damit Ihr Abonnement weiterläuft, müssen Sie Ihre Zahlungsdaten unter Mein Konto oder mit einem Klick auf „Zahlungsdaten aktualisieren“ ändern.',
      },
    },
    act_now: {
      subject: 'Jetzt handeln, damit Ihr Abonnement weiterläuft',
      heading: 'Jetzt handeln, damit Ihr Abonnement weiterläuft',
      body: [
        'Wir haben Sie bereits mehrfach angeschrieben, da wir die Zahlung von {amount} für Ihr Abonnement bei {productName} noch immer nicht einziehen konnten.',
        'Bitte aktualisieren Sie Ihre Zahlungsdaten unter [Mein Konto]({myAccountUrl}) oder über die Schaltfläche unten, damit Ihr Abonnement weiterläuft.',
      ],
      action: 'Zahlungsdaten aktualisieren',
      banner: {
        headline: 'Jetzt handeln, damit Ihr Abonnement weiterläuft',
        body: 'Wir haben mehrfach versucht, Sie zu erreichen, da wir Ihre Zahlung nicht einziehen konnten. Damit Ihr Abonnement weiterläuft, müssen Sie Ihre Zahlungsdaten unter Mein Konto oder mit einem Klick auf „Zahlungsdaten aktualisieren“ ändern.',
      },
    },
    due_to_terminate: {
      subject: 'Ihr Abonnement endet in Kürze',
      heading: 'Ihr Abonnement endet in Kürze',
      body: [
        'Die Zahlung von {amount} für Ihr Abonnement bei {productName} steht noch immer aus.',
        'Bitte aktualisieren Sie Ihre Zahlungsdaten unter [Mein Konto]({myAccountUrl}) oder über die Schaltfläche unten. Andernfalls endet Ihr Abonnement am {terminatesOn}.',
      ],
      action: 'Zahlungsdaten aktualisieren',
      banner: {
        headline: 'Ihr Abonnement endet in Kürze',
        body: 'Wir haben mehrfach versucht, Sie zu erreichen, da wir Ihre Zahlung nicht einziehen konnten. Sie müssen Ihre Zahlungsdaten unter Mein Konto ändern, andernfalls wird Ihr Abonnement beendet.',
      },
    },
    terminated: {
      subject: 'Ihr Abonnement wurde beendet',
      heading: 'Ihr Abonnement wurde beendet',
      body: [
        'Da wir die Zahlung von {amount} nicht einziehen konnten, wurde Ihr Abonnement bei {productName} am {terminatesOn} beendet.',
        'Unter [Mein Konto]({myAccountUrl}) können Sie jederzeit ein neues Abonnement abschließen.',
      ],
    },
    recovered: {
      subject: 'Vielen Dank, Ihre Zahlung ist eingegangen',
      heading: 'Ihre Zahlung ist eingegangen',
      body: [
        'Vielen Dank! Ihre Zahlung von {amount} ist eingegangen, und Ihr Abonnement bei {productName} läuft wie gewohnt weiter.',
        'Sie müssen nichts weiter tun.',
      ],
    },
    action_required: {
      subject: 'Bitte bestätigen Sie Ihre Zahlung',
      heading: 'Ihre Bank bittet Sie, diese Zahlung zu bestätigen',
      body: [
        'Bevor Ihre Bank die Zahlung von {amount} für Ihr Abonnement bei {productName} ausführt, müssen Sie sie bestätigen. Diesen Schritt können wir leider nicht für Sie übernehmen.',
        'Bitte bestätigen Sie die Zahlung über die Schaltfläche unten auf der Rechnungsseite. Das dauert nur einen Moment, und Ihr Abonnement läuft wie gewohnt weiter.',
      ],
      action: 'Zahlung bestätigen',
      banner: {
        headline: 'Ihre Bank bittet Sie, diese Zahlung zu bestätigen',
        body: 'Ihre Bank bittet Sie, Ihre Zahlung von {amount} zu bestätigen. Bestätigen Sie sie, damit Ihr Abonnement weiterläuft.',
      },
    },
    card_expiring: {
      subject: 'Ihre Karte läuft vor Ihrer nächsten Zahlung ab',
      heading: 'Ihre Karte läuft bald ab',
      body: [
        'Die für Ihr Abonnement bei {productName} hinterlegte Karte läuft ab, bevor Ihre nächste Zahlung von {amount} fällig wird.',
        'Damit Ihr Abonnement ohne Unterbrechung weiterläuft, aktualisieren Sie bitte Ihre Zahlungsdaten unter [Mein Konto]({myAccountUrl}) oder über die Schaltfläche unten.',
      ],
      action: 'Zahlungsdaten aktualisieren',
      banner: {
        headline: 'Ihre Karte läuft bald ab',
        body: 'Ihre Karte läuft vor Ihrer nächsten Zahlung von {amount} ab. Aktualisieren Sie Ihre Zahlungsdaten, damit Ihr Abonnement weiterläuft.',
      },
    },
  },
  layout: {
    buttonHelp: 'Falls die Schaltfläche nicht funktioniert, kopieren Sie diesen Link in Ihren Browser:',
    about: 'Sie erhalten diese E-Mail zu Ihrem Abonnement bei {productName}.',
    manage: 'Ihr Abonnement verwalten Sie unter [Mein Konto]({myAccountUrl}).',
    support: 'Fragen? Schreiben Sie uns an {supportEmail}.',
    colon: ':',
  },
};
