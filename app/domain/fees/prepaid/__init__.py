"""Prepaid accounts (预存款): deposits, overpayments, deductions and refunds of a unit's account."""
