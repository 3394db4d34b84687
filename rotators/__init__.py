"""Dual-key rotation of Azure resource keys kept in Azure Key Vault."""
