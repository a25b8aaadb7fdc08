"""The citizen's voice as the mairie receives it: tickets, questions, polls,
subscriptions with consent, and the citizen's own data. Plain functions over a
session, used alike by the conversation flows (bot/flows/), the CLI and the
staff tools; none of them knows a channel's syntax."""
