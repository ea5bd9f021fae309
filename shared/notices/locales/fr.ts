// Français : vouvoiement, ton cordial et direct. Espace insécable (\u00a0) avant « : ! ? ».
import type { Catalog } from './catalog-shape.ts';

export const fr: Catalog = {
  language: 'fr',
  greeting: { named: 'Bonjour {customerName},', anonymous: 'Bonjour,' },
  nameFallback: '',
  messages: {
    payment_failed: {
      subject: "Nous n'avons pas pu encaisser votre paiement",
      heading: "Nous n'avons pas pu encaisser votre paiement",
      body: [
        "Nous avons tenté de prélever {amount} pour votre abonnement {productName}, mais le paiement n'a pas abouti.",
        'Pour conserver votre abonnement, mettez à jour vos informations de paiement depuis [Mon compte]({myAccountUrl}) ou avec le bouton ci-dessous. Nous retenterons le paiement dans quelques jours.',
      ],
      action: 'Mettre à jour mon moyen de paiement',
      banner: {
        headline: "Nous n'avons pas pu encaisser votre paiement",
        body: 'Vous devez mettre à jour vos informations de paiement depuis Mon compte ou en cliquant sur «\u00a0Mettre à jour mon moyen de paiement\u00a0» pour conserver votre abonnement.',
      },
    },
    act_now: {
      subject: 'Agissez dès maintenant pour conserver votre abonnement',
      heading: 'Agissez dès maintenant pour conserver votre abonnement',
      body: [
        "Malgré nos précédents messages, le paiement de {amount} pour votre abonnement {productName} n'a toujours pas pu être effectué.",
        'Pour conserver votre abonnement, mettez à jour vos informations de paiement depuis [Mon compte]({myAccountUrl}) ou avec le bouton ci-dessous.',
      ],
      action: 'Mettre à jour mon moyen de paiement',
      banner: {
        headline: 'Agissez dès maintenant pour conserver votre abonnement',
        body: "Nous avons tenté de vous contacter à plusieurs reprises, car nous n'avons pas pu encaisser votre paiement. Vous devez mettre à jour vos informations de paiement depuis Mon compte ou en cliquant sur «\u00a0Mettre à jour mon moyen de paiement\u00a0» pour conserver votre abonnement.",
      },
    },
    due_to_terminate: {
      subject: 'Votre abonnement va bientôt être résilié',
      heading: 'Votre abonnement va bientôt être résilié',
      body: [
        "Le paiement de {amount} pour votre abonnement {productName} n'a toujours pas pu être effectué.",
        'Mettez à jour vos informations de paiement depuis [Mon compte]({myAccountUrl}) ou avec le bouton ci-dessous, faute de quoi votre abonnement sera résilié le {terminatesOn}.',
      ],
      action: 'Mettre à jour mon moyen de paiement',
      banner: {
        headline: 'Votre abonnement va bientôt être résilié',
        body: "Nous avons tenté de vous contacter à plusieurs reprises, car nous n'avons pas pu encaisser votre paiement. Vous devez mettre à jour vos informations de paiement depuis Mon compte, faute de quoi votre abonnement sera résilié.",
      },
    },
    terminated: {
      subject: 'Votre abonnement a pris fin',
      heading: 'Votre abonnement a pris fin',
      body: [
        "Le paiement de {amount} n'ayant pas pu être effectué, votre abonnement {productName} a pris fin le {terminatesOn}.",
        'Vous pouvez souscrire un nouvel abonnement à tout moment depuis [Mon compte]({myAccountUrl}).',
      ],
    },
    recovered: {
      subject: 'Merci\u00a0! Votre paiement a bien été reçu',
      heading: 'Votre paiement a bien été reçu',
      body: [
        'Merci\u00a0! Nous avons bien reçu votre paiement de {amount}, et votre abonnement {productName} se poursuit normalement.',
        "Vous n'avez rien d'autre à faire.",
      ],
    },
    action_required: {
      subject: 'Action requise\u00a0: confirmez votre paiement',
      heading: 'Votre banque vous demande de confirmer ce paiement',
      body: [
        'Avant de valider le paiement de {amount} pour votre abonnement {productName}, votre banque vous demande de le confirmer. Nous ne pouvons pas le faire à votre place.',
        "Confirmez le paiement sur la page de la facture, à l'aide du bouton ci-dessous. Cela ne prend qu'un instant, et votre abonnement se poursuit normalement.",
      ],
      action: 'Confirmer le paiement',
      banner: {
        headline: 'Votre banque vous demande de confirmer ce paiement',
        body: 'Votre banque vous demande de confirmer votre paiement de {amount}. Confirmez-le pour conserver votre abonnement.',
      },
    },
    card_expiring: {
      subject: 'Votre carte expire avant votre prochain paiement',
      heading: 'Votre carte arrive bientôt à expiration',
      body: [
        'La carte enregistrée pour votre abonnement {productName} expire avant l’échéance de votre prochain paiement de {amount}.',
        'Pour que votre abonnement continue sans interruption, mettez à jour vos informations de paiement depuis [Mon compte]({myAccountUrl}) ou à l’aide du bouton ci-dessous.',
      ],
      action: 'Mettre à jour mon moyen de paiement',
      banner: {
        headline: 'Votre carte arrive bientôt à expiration',
        body: 'Votre carte expire avant votre prochain paiement de {amount}. Mettez à jour vos informations de paiement pour conserver votre abonnement.',
      },
    },
  },
  layout: {
    buttonHelp: 'Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur\u00a0:',
    about: 'Vous recevez cet e-mail au sujet de votre abonnement {productName}.',
    manage: 'Gérez votre abonnement depuis [Mon compte]({myAccountUrl}).',
    support: 'Une question\u00a0? Écrivez-nous à {supportEmail}.',
    colon: '\u00a0:',
  },
};
