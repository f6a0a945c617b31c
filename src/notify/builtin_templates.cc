// The seeds' notification templates (seed 001: booking confirmation, professional document,
// external professional attribution; seed 002/003: welcome, ticket_generated,
// payment_confirmation, event_reminder, registration_confirmation, ticket_alert), in French
// and English, with the shared email header and footer partials.
#include "notify/template_store.h"

namespace herald::notify {
namespace {

constexpr Channel kEmail = Channel::kEmail;
constexpr Channel kSms = Channel::kSms;
constexpr Channel kWhatsApp = Channel::kWhatsApp;
constexpr Channel kChat = Channel::kChat;

TemplateContent Email(const char* subject, const char* html, const char* text) {
  return {subject, html, text, ""};
}
TemplateContent Body(const char* body) { return {"", "", "", body}; }

}  // namespace

const std::vector<BuiltinTemplate>& BuiltinTemplates() {
  static const std::vector<BuiltinTemplate>* all = new std::vector<BuiltinTemplate>{
      // Shared partials: the HTML header and footer of every email, and amounts.
      {"header", kEmail, "fr",
       Body("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"></head>"
            "<body style=\"font-family:Arial,sans-serif;color:#222\">")},
      {"header", kEmail, "en",
       Body("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"></head>"
            "<body style=\"font-family:Arial,sans-serif;color:#222\">")},
      {"footer", kEmail, "fr",
       Body("<p style=\"color:#888;font-size:12px\">Cet e-mail vous a été envoyé automatiquement"
            "{{#supportUrl}} — besoin d'aide ? <a href=\"{{supportUrl}}\">Support</a>"
            "{{/supportUrl}}.</p></body></html>")},
      {"footer", kEmail, "en",
       Body("<p style=\"color:#888;font-size:12px\">This email was sent automatically"
            "{{#supportUrl}} — need help? <a href=\"{{supportUrl}}\">Support</a>"
            "{{/supportUrl}}.</p></body></html>")},

      // An amount: as the language writes it when the sender gives amount_text
      // ({"fr": "99,99 €", "en": "€99.99"}), else the figures and the currency code.
      {"amount", kEmail, "fr",
       Body("{{#amount_text}}{{fr}}{{/amount_text}}{{^amount_text}}{{amount}} {{currency}}"
            "{{/amount_text}}")},
      {"amount", kEmail, "en",
       Body("{{#amount_text}}{{en}}{{/amount_text}}{{^amount_text}}{{amount}} {{currency}}"
            "{{/amount_text}}")},

      {"booking-confirmation", kEmail, "fr",
       Email("Confirmation de votre réservation {{bookingReference}}",
             "{{> header}}<h1>Réservation confirmée</h1><p>Bonjour {{customerName}},</p>"
             "<p>Votre réservation <strong>{{bookingReference}}</strong> est confirmée pour le "
             "{{serviceDate}}{{#serviceTime}} à {{serviceTime}}{{/serviceTime}}.</p>"
             "{{#totalAmount}}<p>Montant : {{totalAmount}} €</p>{{/totalAmount}}"
             "{{#viewBookingUrl}}<p><a href=\"{{viewBookingUrl}}\">Voir ma réservation</a></p>"
             "{{/viewBookingUrl}}{{> footer}}",
             "Bonjour {{customerName}},\n\nVotre réservation {{bookingReference}} est confirmée "
             "pour le {{serviceDate}}{{#serviceTime}} à {{serviceTime}}{{/serviceTime}}.\n"
             "{{#totalAmount}}Montant : {{totalAmount}} €\n{{/totalAmount}}"
             "{{#viewBookingUrl}}Voir ma réservation : {{viewBookingUrl}}\n{{/viewBookingUrl}}")},
      {"booking-confirmation", kEmail, "en",
       Email("Your booking {{bookingReference}} is confirmed",
             "{{> header}}<h1>Booking confirmed</h1><p>Hello {{customerName}},</p>"
             "<p>Your booking <strong>{{bookingReference}}</strong> is confirmed for "
             "{{serviceDate}}{{#serviceTime}} at {{serviceTime}}{{/serviceTime}}.</p>"
             "{{#totalAmount}}<p>Amount: €{{totalAmount}}</p>{{/totalAmount}}"
             "{{#viewBookingUrl}}<p><a href=\"{{viewBookingUrl}}\">View my booking</a></p>"
             "{{/viewBookingUrl}}{{> footer}}",
             "Hello {{customerName}},\n\nYour booking {{bookingReference}} is confirmed for "
             "{{serviceDate}}{{#serviceTime}} at {{serviceTime}}{{/serviceTime}}.\n"
             "{{#totalAmount}}Amount: €{{totalAmount}}\n{{/totalAmount}}"
             "{{#viewBookingUrl}}View my booking: {{viewBookingUrl}}\n{{/viewBookingUrl}}")},
      {"booking-confirmation-sms", kSms, "fr",
       Body("Réservation {{bookingReference}} confirmée le {{serviceDate}}"
            "{{#serviceTime}} à {{serviceTime}}{{/serviceTime}}. Merci {{customerName}} !")},
      {"booking-confirmation-sms", kSms, "en",
       Body("Booking {{bookingReference}} confirmed for {{serviceDate}}"
            "{{#serviceTime}} at {{serviceTime}}{{/serviceTime}}. Thank you {{customerName}}!")},

      {"professional-document", kEmail, "fr",
       Email("Document {{documentType}} — réservation {{bookingReference}}",
             "{{> header}}<h1>Nouveau document</h1><p>Bonjour,</p><p>Vous trouverez ci-joint le "
             "document <strong>{{documentType}}</strong> de la réservation "
             "{{bookingReference}} ({{customerName}}, {{serviceDate}}).</p>{{> footer}}",
             "Bonjour,\n\nVous trouverez ci-joint le document {{documentType}} de la réservation "
             "{{bookingReference}} ({{customerName}}, {{serviceDate}}).\n")},
      {"professional-document", kEmail, "en",
       Email("Document {{documentType}} — booking {{bookingReference}}",
             "{{> header}}<h1>New document</h1><p>Hello,</p><p>Please find attached the "
             "<strong>{{documentType}}</strong> document of booking {{bookingReference}} "
             "({{customerName}}, {{serviceDate}}).</p>{{> footer}}",
             "Hello,\n\nPlease find attached the {{documentType}} document of booking "
             "{{bookingReference}} ({{customerName}}, {{serviceDate}}).\n")},

      {"external-professional-attribution", kEmail, "fr",
       Email("Nouvelle mission proposée à {{city}} le {{serviceDate}}",
             "{{> header}}<h1>Proposition de mission</h1><p>Bonjour {{professionalName}},</p>"
             "<p>Une mission vous est proposée : client {{customerName}}, {{city}}, le "
             "{{serviceDate}}. Montant estimé : {{estimatedAmount}} €.</p>"
             "<p><a href=\"{{acceptUrl}}\">Accepter</a> · <a href=\"{{refuseUrl}}\">Refuser</a>"
             "</p>{{> footer}}",
             "Bonjour {{professionalName}},\n\nUne mission vous est proposée : client "
             "{{customerName}}, {{city}}, le {{serviceDate}}. Montant estimé : "
             "{{estimatedAmount}} €.\nAccepter : {{acceptUrl}}\nRefuser : {{refuseUrl}}\n")},
      {"external-professional-attribution", kEmail, "en",
       Email("New job offered in {{city}} on {{serviceDate}}",
             "{{> header}}<h1>Job offer</h1><p>Hello {{professionalName}},</p>"
             "<p>A job is offered to you: customer {{customerName}}, {{city}}, on "
             "{{serviceDate}}. Estimated amount: €{{estimatedAmount}}.</p>"
             "<p><a href=\"{{acceptUrl}}\">Accept</a> · <a href=\"{{refuseUrl}}\">Refuse</a></p>"
             "{{> footer}}",
             "Hello {{professionalName}},\n\nA job is offered to you: customer {{customerName}}, "
             "{{city}}, on {{serviceDate}}. Estimated amount: €{{estimatedAmount}}.\n"
             "Accept: {{acceptUrl}}\nRefuse: {{refuseUrl}}\n")},

      {"welcome", kEmail, "fr",
       Email("Bienvenue sur Event Planner !",
             "{{> header}}<h1>Bienvenue {{first_name}} !</h1><p>Votre compte est prêt"
             "{{#event_name}} et votre inscription à {{event_name}} est enregistrée{{/event_name}}"
             ".</p>{{> footer}}",
             "Bienvenue {{first_name}} !\n\nVotre compte est prêt{{#event_name}} et votre "
             "inscription à {{event_name}} est enregistrée{{/event_name}}.\n")},
      {"welcome", kEmail, "en",
       Email("Welcome to Event Planner!",
             "{{> header}}<h1>Welcome {{first_name}}!</h1><p>Your account is ready"
             "{{#event_name}} and your registration for {{event_name}} is recorded{{/event_name}}"
             ".</p>{{> footer}}",
             "Welcome {{first_name}}!\n\nYour account is ready{{#event_name}} and your "
             "registration for {{event_name}} is recorded{{/event_name}}.\n")},

      {"ticket_generated", kEmail, "fr",
       Email("Vos billets pour {{event_title}} sont prêts",
             "{{> header}}<h1>Vos billets sont prêts</h1><p>Bonjour {{guest_name}},</p>"
             "<p>Vos billets pour <strong>{{event_title}}</strong> sont prêts"
             "{{#ticket_url}} : <a href=\"{{ticket_url}}\">les télécharger</a>{{/ticket_url}}.</p>"
             "{{#ticket_links}}<p><a href=\"{{url}}\">{{code}}</a></p>{{/ticket_links}}"
             "{{> footer}}",
             "Bonjour {{guest_name}},\n\nVos billets pour {{event_title}} sont prêts"
             "{{#ticket_url}} : {{ticket_url}}{{/ticket_url}}.\n"
             "{{#ticket_links}}{{code}} : {{url}}\n{{/ticket_links}}")},
      {"ticket_generated", kEmail, "en",
       Email("Your tickets for {{event_title}} are ready",
             "{{> header}}<h1>Your tickets are ready</h1><p>Hello {{guest_name}},</p>"
             "<p>Your tickets for <strong>{{event_title}}</strong> are ready"
             "{{#ticket_url}}: <a href=\"{{ticket_url}}\">download them</a>{{/ticket_url}}.</p>"
             "{{#ticket_links}}<p><a href=\"{{url}}\">{{code}}</a></p>{{/ticket_links}}"
             "{{> footer}}",
             "Hello {{guest_name}},\n\nYour tickets for {{event_title}} are ready"
             "{{#ticket_url}}: {{ticket_url}}{{/ticket_url}}.\n"
             "{{#ticket_links}}{{code}}: {{url}}\n{{/ticket_links}}")},
      {"ticket_generated", kSms, "fr",
       Body("{{guest_name}}, vos billets pour {{event_title}} sont prêts"
            "{{#ticket_url}} : {{ticket_url}}{{/ticket_url}}"
            "{{#ticket_links}} {{url}}{{/ticket_links}}")},
      {"ticket_generated", kSms, "en",
       Body("{{guest_name}}, your tickets for {{event_title}} are ready"
            "{{#ticket_url}}: {{ticket_url}}{{/ticket_url}}"
            "{{#ticket_links}} {{url}}{{/ticket_links}}")},

      {"payment_confirmation", kEmail, "fr",
       Email("Paiement confirmé : {{> amount}}",
             "{{> header}}<h1>Paiement confirmé</h1><p>Nous avons bien reçu votre paiement de "
             "<strong>{{> amount}}</strong>{{#event_title}} pour {{event_title}}"
             "{{/event_title}}. Merci !</p>{{> footer}}",
             "Nous avons bien reçu votre paiement de {{> amount}}{{#event_title}} pour "
             "{{event_title}}{{/event_title}}. Merci !\n")},
      {"payment_confirmation", kEmail, "en",
       Email("Payment confirmed: {{> amount}}",
             "{{> header}}<h1>Payment confirmed</h1><p>We have received your payment of "
             "<strong>{{> amount}}</strong>{{#event_title}} for {{event_title}}"
             "{{/event_title}}. Thank you!</p>{{> footer}}",
             "We have received your payment of {{> amount}}{{#event_title}} for "
             "{{event_title}}{{/event_title}}. Thank you!\n")},

      {"event_reminder", kEmail, "fr",
       Email("Rappel : {{event_title}} dans {{reminder_hours}} h",
             "{{> header}}<h1>{{event_title}}</h1><p>Rappel : l'événement commence dans "
             "{{reminder_hours}} h{{#event_date}}, le {{event_date}}{{/event_date}}."
             "{{#location}} Lieu : {{location}}.{{/location}}</p>{{> footer}}",
             "Rappel : {{event_title}} commence dans {{reminder_hours}} h"
             "{{#event_date}}, le {{event_date}}{{/event_date}}."
             "{{#location}} Lieu : {{location}}.{{/location}}\n")},
      {"event_reminder", kEmail, "en",
       Email("Reminder: {{event_title}} in {{reminder_hours}} h",
             "{{> header}}<h1>{{event_title}}</h1><p>Reminder: the event starts in "
             "{{reminder_hours}} h{{#event_date}}, on {{event_date}}{{/event_date}}."
             "{{#location}} Venue: {{location}}.{{/location}}</p>{{> footer}}",
             "Reminder: {{event_title}} starts in {{reminder_hours}} h"
             "{{#event_date}}, on {{event_date}}{{/event_date}}."
             "{{#location}} Venue: {{location}}.{{/location}}\n")},
      {"event_reminder", kSms, "fr",
       Body("Rappel : {{event_title}} dans {{reminder_hours}} h"
            "{{#location}}, {{location}}{{/location}}.")},
      {"event_reminder", kSms, "en",
       Body("Reminder: {{event_title}} in {{reminder_hours}} h"
            "{{#location}}, {{location}}{{/location}}.")},

      {"registration_confirmation", kEmail, "fr",
       Email("Inscription confirmée : {{event_title}}",
             "{{> header}}<h1>Inscription confirmée</h1><p>Bonjour {{guest_name}},</p>"
             "<p>Votre inscription à <strong>{{event_title}}</strong> est confirmée"
             "{{#event_date}} ({{event_date}}){{/event_date}}.</p>{{> footer}}",
             "Bonjour {{guest_name}},\n\nVotre inscription à {{event_title}} est confirmée"
             "{{#event_date}} ({{event_date}}){{/event_date}}.\n")},
      {"registration_confirmation", kEmail, "en",
       Email("Registration confirmed: {{event_title}}",
             "{{> header}}<h1>Registration confirmed</h1><p>Hello {{guest_name}},</p>"
             "<p>Your registration for <strong>{{event_title}}</strong> is confirmed"
             "{{#event_date}} ({{event_date}}){{/event_date}}.</p>{{> footer}}",
             "Hello {{guest_name}},\n\nYour registration for {{event_title}} is confirmed"
             "{{#event_date}} ({{event_date}}){{/event_date}}.\n")},

      {"ticket_alert", kSms, "fr",
       Body("Alerte billet {{ticket_code}} ({{event_title}}) : {{message}}")},
      {"ticket_alert", kSms, "en",
       Body("Ticket alert {{ticket_code}} ({{event_title}}): {{message}}")},

      // WhatsApp (seed 001 section 6.3, seed 000): free-form text inside the 24-hour window,
      // and the caption of a document. Outside the window, send a Meta-approved template.
      {"booking-confirmation", kWhatsApp, "fr",
       Body("Bonjour {{customerName}}, votre réservation *{{bookingReference}}* est confirmée "
            "pour le {{serviceDate}}{{#serviceTime}} à {{serviceTime}}{{/serviceTime}}."
            "{{#viewBookingUrl}}\nVoir ma réservation : {{viewBookingUrl}}{{/viewBookingUrl}}")},
      {"booking-confirmation", kWhatsApp, "en",
       Body("Hello {{customerName}}, your booking *{{bookingReference}}* is confirmed "
            "for {{serviceDate}}{{#serviceTime}} at {{serviceTime}}{{/serviceTime}}."
            "{{#viewBookingUrl}}\nView my booking: {{viewBookingUrl}}{{/viewBookingUrl}}")},
      {"ticket_generated", kWhatsApp, "fr",
       Body("{{guest_name}}, vos billets pour *{{event_title}}* sont prêts"
            "{{#ticket_url}} : {{ticket_url}}{{/ticket_url}}")},
      {"ticket_generated", kWhatsApp, "en",
       Body("{{guest_name}}, your tickets for *{{event_title}}* are ready"
            "{{#ticket_url}}: {{ticket_url}}{{/ticket_url}}")},
      {"event_reminder", kWhatsApp, "fr",
       Body("Rappel : *{{event_title}}* dans {{reminder_hours}} h"
            "{{#location}}, {{location}}{{/location}}.")},
      {"event_reminder", kWhatsApp, "en",
       Body("Reminder: *{{event_title}}* in {{reminder_hours}} h"
            "{{#location}}, {{location}}{{/location}}.")},

      // Chat (seed 000: the internal team is told of a new order; ticketing alerts).
      {"ticket_alert", kChat, "fr",
       Body("Alerte billet {{ticket_code}} ({{event_title}}) : {{message}}")},
      {"ticket_alert", kChat, "en",
       Body("Ticket alert {{ticket_code}} ({{event_title}}): {{message}}")},
      {"order-received", kChat, "fr",
       Body("Nouvelle commande {{orderNumber}} de {{customerName}}"
            "{{#itemCount}} : {{itemCount}} articles{{/itemCount}}"
            "{{#totalAmount}}, {{totalAmount}} €{{/totalAmount}}.")},
      {"order-received", kChat, "en",
       Body("New order {{orderNumber}} from {{customerName}}"
            "{{#itemCount}}: {{itemCount}} items{{/itemCount}}"
            "{{#totalAmount}}, €{{totalAmount}}{{/totalAmount}}.")},
  };
  return *all;
}

}  // namespace herald::notify
