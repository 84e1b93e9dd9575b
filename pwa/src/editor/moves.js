// The publishing flow's moves from each state (backend/publishing: draft → in_review → scheduled|published →
// archived, and back to draft), as the marketer screens offer them.
export const MOVES = {
  draft: ['in_review', 'archived'],
  in_review: ['published', 'scheduled', 'draft', 'archived'],
  scheduled: ['published', 'draft', 'archived'],
  published: ['archived', 'draft'],
  archived: ['draft'],
}
