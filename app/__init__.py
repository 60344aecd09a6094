"""PropDesk: the backend of a residential property-management front desk."""
