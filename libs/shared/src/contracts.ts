// `@triad/shared/contracts`, kept for existing imports: the contracts now live in their own package.
export * from '@triad/contracts';
