"""The domain: the aggregates and their events, money, areas and identifiers, the rules that decide
every act (with the policy in ``ledger.policy``), the operators' roles and duties, and the checks of a
replayed history. Imports nothing from ``ledger.store``, ``ledger.service.application`` or ``commands``."""
