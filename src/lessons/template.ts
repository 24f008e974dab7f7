/**
 * `smtp-lab lessons new <id>`: a lesson to start from, every key commented, that passes
 * `smtp-lab lessons check` as it is (a test keeps it so). lessons/README.md is the full format.
 */

/** A lesson id is its file name without .md: lower-case words joined by hyphens, e.g. 01-say-hello. */
export const LESSON_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function lessonTemplate(id: string, order: number): string {
  return `---
# A lesson of your own: YAML front matter (between the --- lines), then the reading in Markdown.
# The full format is smtp-lab's lessons/README.md. Check this folder with:
#   smtp-lab lessons check --dir <this folder>
# and run it with:  smtp-lab --lessons <this folder> --lesson ${id}   (or smtp-lab demo ${id} --lessons …)
title: Say hello, then leave          # shown in the lesson list and at the top of the lesson
stage: handshake                      # connection, handshake, transmission, queue, termination, or a list
order: ${order}                              # its place in your curriculum; no two lessons share one
summary: Introduce your client with EHLO, then end the session with QUIT.   # optional
# world:                              # optional: merged over world.yaml for this lesson only, e.g.
#   domains:
#     example.org: { behaviour: greylist }
steps:
  # Each step: what to do, how the lab knows it is done (a predicate over events, never reply text),
  # hints (each :hint shows the next), and the explanation shown when it passes (cite the RFC).
  - instruction: Introduce your client with \`EHLO\` and a name for it, e.g. \`EHLO client.example\`.
    expect:
      reply: { to: EHLO, code: 250 }  # the server accepted an EHLO (README: "Predicates")
    hints:
      - The command is four letters long and starts with E.
      - Type \`EHLO client.example\` and press Enter.
    explain: >-
      EHLO names the client and asks which extensions the server supports; the 250 reply lists them,
      one keyword a line (RFC 5321 §4.1.1.1).
  - instruction: End the session the way a client must before it hangs up.
    expect:
      reply: { to: QUIT, code: 221 }
      closed: { reason: quit }        # and the server closed the connection after its 221
    hints:
      - The command that ends a session is four letters long.
      - Type \`QUIT\`.
    explain: >-
      QUIT asks the server to answer 221 and close the connection; the client MUST send it before it
      closes the channel (RFC 5321 §4.1.1.10, §3.8).
# The lines a model learner types. \`lessons check\` replays them against a real lab (every step must
# pass) and \`smtp-lab demo\` plays them; tutor commands such as :wait 1000 work here too.
solution:
  - EHLO client.example
  - QUIT
# Optional: near-misses a learner really makes; each must NOT pass (the check fails if one does, naming
# its why). Default: the solution less one line.
wrong:
  - why: leaves without QUIT
    lines: [EHLO client.example]
---

# Say hello, then leave

Write the lesson's reading here, in Markdown: it is shown when the lesson starts. Cite the RFC for
every fact, e.g. a client introduces itself with EHLO (RFC 5321 §4.1.1.1):

\`\`\`
C: EHLO client.example
S: 250-mx.example.com Nice to meet you
S: 250 PIPELINING
C: QUIT
S: 221 2.0.0 Bye
\`\`\`
`;
}
