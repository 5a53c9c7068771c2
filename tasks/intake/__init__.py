"""4. Intake: each new file taken exactly once and archived; the ledger (受付台帳); 提出状況."""
