/**
 * The embedding aliases the embeddings surface tests share (one per family and generation).
 */
export const EMBEDDING_ALIASES = [
  { name: 'titan-embed', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1', embedding: { dimensions: 512 } },
  {
    name: 'cohere-v4',
    model: 'bedrock/invoke/cohere.embed-v4:0',
    region: 'us-east-1',
    embedding: { input_type: 'search_query', dimensions: 256 },
  },
  { name: 'cohere-v3', model: 'bedrock/invoke/cohere.embed-english-v3', region: 'us-east-1' },
  {
    name: 'nova-embed',
    model: 'bedrock/invoke/amazon.nova-2-multimodal-embeddings-v1:0',
    region: 'us-east-1',
    embedding: { dimensions: 1024 },
  },
];
