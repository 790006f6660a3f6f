# One image for both processes; docker-compose.yml picks the command (api or worker).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:workflows
ENV HOST=0.0.0.0
CMD ["npm", "run", "api"]
