/**
 * The platform's wire contract, written once: Kafka topics and their configs ({@link dev.cna.api.Topics}), the
 * prompt-pair event ({@link dev.cna.api.PromptPairEvent}), steering-service's generate request and stream events
 * ({@link dev.cna.api.GenerateRequest}, {@link dev.cna.api.StreamEvent}), its circuit summaries and changes, and the
 * problem details every service answers errors with ({@link dev.cna.api.Problem}, {@link dev.cna.api.ProblemType}).
 * Records, enums and constants only, with Jackson annotations for their JSON: validation stays with the service that
 * owns the data.
 */
package dev.cna.api;
